package app

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

// instance is one dashboard process of the test.
type instance struct {
	cmd  *exec.Cmd
	url  string
	logs bytes.Buffer
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mmconsole")
	_, file, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startInstance starts the binary on a free loopback port against dbURL and waits until it
// answers /healthz.
func startInstance(t *testing.T, bin, dbURL string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	in := &instance{url: "http://" + addr}
	in.cmd = exec.Command(bin)
	in.cmd.Env = append(os.Environ(), "MMC_DATABASE="+dbURL, "MMC_APP_SECRET="+pairAppSecret, "MMC_SANDBOX=off",
		"MMC_ADDR="+addr, "MMC_LOG_LEVEL=error", "MMC_SECRET_KEY="+pairKey)
	in.cmd.Stdout, in.cmd.Stderr = &in.logs, &in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.cmd.Process.Kill(); in.cmd.Wait() })
	for i := 0; ; i++ {
		if resp, err := http.Get(in.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if i > 200 {
			t.Fatalf("instance on %s did not start:\n%s", addr, in.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKilledInstanceLosesNoAcknowledgedDelivery: two processes on one database take
// deliveries from several senders that use either instance (a load balancer); one is killed
// with SIGKILL mid-stream, and a delivery it does not answer goes to the other (Meta retries
// until it gets a 200). Every delivery answered 200, by either instance, is stored, each once,
// and the surviving instance keeps answering.
func TestKilledInstanceLosesNoAcknowledgedDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary; skipped under -short")
	}
	bin := buildBinary(t)
	dbURL := database.TestDSN(t)
	// One after the other: the first creates the schema.
	insts := []*instance{startInstance(t, bin, dbURL), nil}
	insts[1] = startInstance(t, bin, dbURL)

	var mu sync.Mutex
	acked := map[string]int{} // wamid -> instance that answered 200
	var killed atomic.Bool
	var afterKill atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			post := func(i int, wamid string) bool {
				body := statusDelivery(wamid)
				req, _ := http.NewRequest(http.MethodPost, insts[i].url+"/webhooks/whatsapp", bytes.NewReader(body))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(body, []byte(pairAppSecret)))
				resp, err := client.Do(req)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				wamid := fmt.Sprintf("wamid.kill.%d.%d", g, k)
				first := (g + k) % 2
				for _, i := range []int{first, 1 - first} {
					if post(i, wamid) {
						mu.Lock()
						acked[wamid] = i
						mu.Unlock()
						if killed.Load() && i == 1 {
							afterKill.Add(1)
						}
						break
					}
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := insts[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	insts[0].cmd.Wait()
	killed.Store(true)
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	// The survivor stops as an operator would stop it; what it acknowledged is committed.
	insts[1].cmd.Process.Signal(syscall.SIGTERM)
	insts[1].cmd.Wait()

	perInstance := [2]int{}
	for _, i := range acked {
		perInstance[i]++
	}
	if perInstance[0] == 0 || perInstance[1] == 0 {
		t.Fatalf("acknowledged per instance = %v; both should have taken deliveries", perInstance)
	}
	if afterKill.Load() == 0 {
		t.Fatal("the surviving instance acknowledged nothing after the other was killed")
	}

	db, err := database.Open(context.Background(), dbURL, Migrations(), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var wamids []string
	if err := db.Model(&models.WebhookEvent{}).Pluck("wamid", &wamids).Error; err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, w := range wamids {
		stored[w]++
	}
	missing, twice := 0, 0
	for w := range acked {
		if stored[w] == 0 {
			missing++
		}
	}
	for _, c := range stored {
		if c > 1 {
			twice++
		}
	}
	if missing > 0 || twice > 0 {
		t.Fatalf("of %d acknowledged deliveries %d are not stored; %d messages are stored more than once", len(acked), missing, twice)
	}
	t.Logf("%d acknowledged (%d by the killed instance, %d by the survivor, %d after the kill), all stored once",
		len(acked), perInstance[0], perInstance[1], afterKill.Load())
}
