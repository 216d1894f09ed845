package resnet

import "testing"

// TestShortReason: the XLA fallback prints one short line, not the ~400-character download error.
func TestShortReason(t *testing.T) {
	long := `backend "xla" failed to auto-install default plugins: failed to auto-install "cpu": failed to fetch release data from "https://api.github.com/x": Get "https://api.github.com/x": dial tcp: lookup api.github.com on 10.255.255.53:53: no such host`
	if got := shortReason(long); got != "no such host" {
		t.Errorf("shortReason = %q", got)
	}
	if got := shortReason("x: " + string(make([]byte, 100))); len(got) > 60 {
		t.Errorf("shortReason kept %d characters", len(got))
	}
}
