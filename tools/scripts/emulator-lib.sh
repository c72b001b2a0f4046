# Sourced by demo.sh and live-on-emulator.sh: a work directory removed at
# exit, and start_emulator, which builds the emulator, starts it with a
# database "app" and waits for the environment file it writes ($work/env.sh;
# its log, with the server admin's password, is $work/emulator.log). The
# emulator is stopped at exit.
work=$(mktemp -d)
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
    kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start_emulator() {
  go build -o "$work/azurepg-emulator" ./internal/emulator/cmd/azurepg-emulator
  "$work/azurepg-emulator" -database app -env-file "$work/env.sh" >"$work/emulator.log" 2>&1 &
  emu_pid=$!
  # A cold start builds the label module; 2 minutes, as the tests' own
  # emulator start, is far longer than that takes on a loaded machine.
  for _ in $(seq 1 600); do
    [ -s "$work/env.sh" ] && return 0
    kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.log"; echo "the emulator did not start" >&2; exit 1; }
    sleep 0.2
  done
  cat "$work/emulator.log"; echo "the emulator did not start in 2 minutes" >&2; exit 1
}

# server_admin_password is the password the emulator printed for pgadmin.
server_admin_password() {
  sed -n 's/^# Server admin .*password "\(.*\)"$/\1/p' "$work/emulator.log"
}
