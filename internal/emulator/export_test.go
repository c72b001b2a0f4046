package emulator

// SignTokenForTest signs arbitrary claims with the emulator's token key, so
// that tests can present correctly signed tokens with wrong claims.
func (e *Emulator) SignTokenForTest(claims map[string]any) string { return e.signJWT(claims) }
