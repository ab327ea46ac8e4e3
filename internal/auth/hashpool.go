package auth

import (
	"context"
	"fmt"
	"math"
	"time"

	"mmconsole/internal/i18n"
)

// HashPool bounds how many argon2id computations run at once. Each one takes 19 MiB and tens of
// milliseconds of CPU, so a burst of sign-ins without a bound piles up memory (200 at once once
// took 3.9 GB) and slows every page; with it, the excess waits briefly and is then refused.
type HashPool struct {
	slots chan struct{}
	wait  time.Duration
}

// NewHashPool allows size computations at once (at least 1); a caller waits at most wait for a
// free slot before it is refused with a BusyError.
func NewHashPool(size int, wait time.Duration) *HashPool {
	size = max(size, 1)
	if wait < 0 {
		wait = 0
	}
	return &HashPool{slots: make(chan struct{}, size), wait: wait}
}

// Size is how many computations may run at once.
func (p *HashPool) Size() int { return cap(p.slots) }

// Acquire takes a slot, waiting at most the pool's wait (or until ctx ends). The caller must call
// the returned release exactly once.
func (p *HashPool) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-p.slots }
	select {
	case p.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, &BusyError{RetryAfter: max(p.wait, time.Second)}
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: wait for password hashing: %w", ctx.Err())
	}
}

// BusyError says every password-hashing slot is taken: the request is refused rather than
// queued, and may be repeated after RetryAfter.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string {
	return "The dashboard is checking many passwords right now. Nothing was changed; try again in a few seconds."
}

// UserFacing is the refusal in the language of ctx.
func (e *BusyError) UserFacing(ctx context.Context) (int, string, string) {
	return 429, i18n.T(ctx, "auth.busy.title"), i18n.T(ctx, "auth.busy.message")
}

// RetryAfterSeconds is the Retry-After header value.
func (e *BusyError) RetryAfterSeconds() int { return ceilSeconds(e.RetryAfter) }

func ceilSeconds(d time.Duration) int { return max(int(math.Ceil(d.Seconds())), 1) }
