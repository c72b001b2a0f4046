//go:build linux

package entratoken

import (
	"context"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTimeoutNamesLastAttempt: a token endpoint that refuses every
// connection is retried until the fetch's time-out; the error then says what
// the tries met, not only azidentity's "context deadline exceeded".
func TestTimeoutNamesLastAttempt(t *testing.T) {
	// A port bound and not listening refuses every connection, and no
	// other process can listen there while it is bound (a port closed
	// again could be taken by another test's server meanwhile).
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	t.Setenv("IDENTITY_ENDPOINT", "http://"+addr+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "header")
	s, err := New(Settings{Method: MethodManagedIdentity, ClientID: "client", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Token(context.Background())
	if err == nil {
		t.Fatal("got a token from a closed port")
	}
	for _, want := range []string{"context deadline exceeded", "no token within the connect timeout after", "tries to the token endpoint", addr, "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
