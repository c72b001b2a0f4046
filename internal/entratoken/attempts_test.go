package entratoken

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTimeoutNamesLastAttempt: a token endpoint that refuses every
// connection is retried until the fetch's time-out; the error then says what
// the tries met, not only azidentity's "context deadline exceeded".
func TestTimeoutNamesLastAttempt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
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
