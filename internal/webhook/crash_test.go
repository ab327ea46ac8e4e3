package webhook_test

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
	"syscall"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/webhook"
)

// TestAcknowledgedDeliveriesSurviveSIGKILL builds the server, streams signed deliveries at it
// from several goroutines, kills it mid-stream, and checks that every delivery answered 200 is
// in the database.
func TestAcknowledgedDeliveriesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary; skipped under -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mmconsole")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// A SQLite file in the test's folder, or a PostgreSQL database of its own.
	dbPath := database.TestDSN(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "MMC_DATABASE="+dbPath, "MMC_APP_SECRET=crash-secret", "MMC_SANDBOX=off",
		"MMC_ADDR="+addr, "MMC_LOG_LEVEL=error",
		"MMC_SECRET_KEY=0000000000000000000000000000000000000000000000000000000000000001")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := "http://" + addr + "/webhooks/whatsapp"
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatal("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wamid := fmt.Sprintf("wamid.crash.%d.%d", g, i)
				body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"statuses":[{"id":"` + wamid + `","status":"sent","timestamp":"1750030073","pricing":{"category":"marketing_lite"}}]}}]}]}`)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(body, []byte("crash-secret")))
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, wamid)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no delivery was acknowledged before the kill")
	}

	db, err := database.Open(context.Background(), dbPath, append(accounts.Migrations(), webhook.Migrations()...), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	stored := map[string]bool{}
	var wamids []string
	if err := db.Table("webhook_events").Pluck("wamid", &wamids).Error; err != nil {
		t.Fatal(err)
	}
	for _, w := range wamids {
		stored[w] = true
	}
	missing := 0
	for _, w := range acked {
		if !stored[w] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged deliveries are not in the database", missing, len(acked))
	}
	t.Logf("%d acknowledged deliveries, all stored (%d events in the database)", len(acked), len(wamids))
}
