package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Health answers /healthz: 200 when the database answers a read, takes a write and has disk to
// grow into; 503 with the reason otherwise. A database that reads but cannot write (disk full,
// read-only file, a stuck lock) loses every webhook delivery, so a read alone is not health.
type Health struct {
	DBPing func(ctx context.Context) error
	// DBWrite commits a tiny write; nil skips the check. It runs at most once per ProbeEvery
	// (default 1 s) whatever the request rate, since /healthz is public and each probe is a
	// commit; callers in between get the last result.
	DBWrite    func(ctx context.Context) error
	ProbeEvery time.Duration
	// FreeDisk reports the bytes free where the database lives; below MinFree the answer is 503.
	// nil or MinFree 0 skips the check.
	FreeDisk func() (uint64, error)
	MinFree  uint64

	mu        sync.Mutex // one probe at a time; guards the fields below
	probedAt  time.Time
	probeErr  error
	freeBytes uint64
	freeErr   error
}

// Get checks the database within a short deadline.
func (h *Health) Get(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := h.DBPing(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": err.Error()})
	}
	writeErr, free, freeErr := h.probe(ctx)
	if writeErr != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "cannot write: " + writeErr.Error()})
	}
	out := fiber.Map{"status": "ok", "database": "ok"}
	if h.FreeDisk != nil && h.MinFree > 0 && freeErr == nil {
		out["disk_free_bytes"] = free
		if free < h.MinFree {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "ok",
				"disk":            fmt.Sprintf("%d MiB free, less than the %d MiB required (MMC_MIN_FREE_DISK_MB)", free>>20, h.MinFree>>20),
				"disk_free_bytes": free})
		}
	}
	return c.JSON(out)
}

// probe runs the write probe and the disk check, or returns their last results when they ran
// less than ProbeEvery ago.
func (h *Health) probe(ctx context.Context) (writeErr error, free uint64, freeErr error) {
	every := h.ProbeEvery
	if every <= 0 {
		every = time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.probedAt.IsZero() && time.Since(h.probedAt) < every {
		return h.probeErr, h.freeBytes, h.freeErr
	}
	h.probeErr, h.freeErr = nil, nil
	if h.DBWrite != nil {
		h.probeErr = h.DBWrite(ctx)
	}
	if h.FreeDisk != nil {
		h.freeBytes, h.freeErr = h.FreeDisk()
	}
	h.probedAt = time.Now()
	return h.probeErr, h.freeBytes, h.freeErr
}
