package app

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"mmconsole/internal/sandbox"
)

func TestSandboxTokensNeverReachTheRealGraphAPI(t *testing.T) {
	var real, sim atomic.Int64
	realAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { real.Add(1) }))
	defer realAPI.Close()
	simAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.Add(1) }))
	defer simAPI.Close()

	call := func(rt http.RoundTripper, token string) error {
		req, _ := http.NewRequest("GET", realAPI.URL+"/v25.0/123", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	// Sandbox on: its tokens go to the simulator, every other token to the real API.
	on := offRouter()
	on.target, _ = url.Parse(simAPI.URL)
	if err := call(on, sandbox.StoreToken); err != nil || sim.Load() != 1 || real.Load() != 0 {
		t.Fatalf("sandbox token with the sandbox on: err %v, simulator %d, real %d", err, sim.Load(), real.Load())
	}
	if err := call(on, "EAAGrealTOKEN"); err != nil || real.Load() != 1 {
		t.Fatalf("real token: err %v, real %d", err, real.Load())
	}

	// Sandbox off: its tokens are refused here, with words, and nothing is sent anywhere.
	off := offRouter()
	if err := call(off, sandbox.PharmaToken); !errors.Is(err, errSandboxOff) {
		t.Errorf("sandbox token with the sandbox off: %v, want errSandboxOff", err)
	}
	if real.Load() != 1 || sim.Load() != 1 {
		t.Errorf("a sandbox token left the process: real %d, simulator %d", real.Load(), sim.Load())
	}
	if err := call(off, "EAAGrealTOKEN"); err != nil || real.Load() != 2 {
		t.Errorf("real tokens still pass with the sandbox off: %v", err)
	}
}
