package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Delivery is one webhook POST (possibly batching several events) and what
// became of it.
type Delivery struct {
	Body      []byte
	Signature string // X-Hub-Signature-256 value, "sha256=<hex>"
	Status    int    // HTTP status of the last attempt; 0 when not sent
	Attempts  int
	Delivered bool   // got HTTP 200
	Err       string // last transport error, if any
	Fields    []string
	At        time.Time // real time of the first attempt
}

// Deliveries returns copies of every delivery made or attempted, in order.
// With no CallbackURL, deliveries are recorded with Attempts 0.
func (s *Sandbox) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = *d
		out[i].Body = append([]byte(nil), d.Body...)
		out[i].Fields = append([]string(nil), d.Fields...)
	}
	return out
}

// change is one entry.changes[] element.
type change struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// event is a scheduled webhook. build runs when it is due (without s.mu
// held) so that state changes (approval) and timestamps happen then.
type event struct {
	due    time.Time
	seq    int64
	wabaID string
	build  func() *change
}

// enqueueLocked schedules build after delay (real time). s.mu must be held.
func (s *Sandbox) enqueueLocked(delay time.Duration, wabaID string, build func() *change) {
	if s.closed {
		return
	}
	s.seq++
	s.queue = append(s.queue, &event{due: time.Now().Add(delay), seq: s.seq, wabaID: wabaID, build: build})
	s.startSchedulerLocked()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// startSchedulerLocked starts the deliverer once; it runs until Close.
func (s *Sandbox) startSchedulerLocked() {
	if s.schedOn || s.closed {
		return
	}
	s.schedOn = true
	s.wg.Add(1)
	go s.runScheduler()
}

// maxBatch is Meta's documented maximum of updates per webhook POST.
const maxBatch = 1000

func (s *Sandbox) runScheduler() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		now := time.Now()
		var due, rest []*event
		var next time.Time
		for _, e := range s.queue {
			if !e.due.After(now) {
				due = append(due, e)
			} else {
				rest = append(rest, e)
				if next.IsZero() || e.due.Before(next) {
					next = e.due
				}
			}
		}
		s.queue = rest
		s.mu.Unlock()

		sort.Slice(due, func(i, j int) bool {
			if !due[i].due.Equal(due[j].due) {
				return due[i].due.Before(due[j].due)
			}
			return due[i].seq < due[j].seq
		})
		type item struct {
			waba string
			ch   *change
		}
		var items []item
		for _, e := range due {
			if ch := e.build(); ch != nil {
				items = append(items, item{e.wabaID, ch})
			}
		}
		for len(items) > 0 {
			n := min(len(items), maxBatch)
			batch := items[:n]
			items = items[n:]
			// Events due together go out in one POST, grouped per WABA entry,
			// as Meta batches them.
			var entries []map[string]any
			idx := map[string]int{}
			var fields []string
			for _, it := range batch {
				i, ok := idx[it.waba]
				if !ok {
					i = len(entries)
					idx[it.waba] = i
					// time: when Meta sent the entry; the receiver tells repeated events apart by it.
					entries = append(entries, map[string]any{"id": it.waba, "time": time.Now().Unix(), "changes": []*change{}})
				}
				entries[i]["changes"] = append(entries[i]["changes"].([]*change), it.ch)
				fields = append(fields, it.ch.Field)
			}
			s.deliver(map[string]any{"object": "whatsapp_business_account", "entry": entries}, fields)
			if s.ctx.Err() != nil {
				return
			}
		}

		var timer <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			timer = t.C
		}
		select {
		case <-s.ctx.Done():
		case <-s.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// Sign returns the X-Hub-Signature-256 value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver POSTs one payload, retrying non-200 answers with exponential
// backoff up to DeliveryMaxAttempts. Later payloads wait, so order is kept.
func (s *Sandbox) deliver(payload any, fields []string) {
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("sandbox: encode webhook", "error", err)
		return
	}
	d := &Delivery{Body: body, Signature: Sign(s.opts.AppSecret, body), Fields: fields, At: time.Now()}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	if s.opts.CallbackURL == "" {
		return
	}
	delay := s.opts.DeliveryRetryDelay
	for attempt := 1; attempt <= s.opts.DeliveryMaxAttempts; attempt++ {
		status, errText := s.post(body, d.Signature)
		s.mu.Lock()
		d.Attempts, d.Status, d.Err = attempt, status, errText
		d.Delivered = status == http.StatusOK
		s.mu.Unlock()
		if status == http.StatusOK || s.ctx.Err() != nil || attempt == s.opts.DeliveryMaxAttempts {
			if status != http.StatusOK {
				s.log.Warn("sandbox: webhook not delivered", "attempts", attempt, "status", status, "error", errText)
			}
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay *= 2
	}
}

func (s *Sandbox) post(body []byte, sig string) (int, string) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.opts.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", sig)
	req.Header.Set("User-Agent", "facebookexternalua")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	resp.Body.Close()
	return resp.StatusCode, ""
}

// sendInfo is what the status webhooks of one accepted send need.
type sendInfo struct {
	wamid, wabaID, waID, bsuid, opaque, category string
	phone                                        *phone
	failCode                                     int
	clickable                                    bool
}

var failures = map[int][2]string{
	131049: {"This message was not delivered to maintain healthy ecosystem engagement.",
		"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	131050: {"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
		"The user has stopped marketing messages from this business."},
}

// scheduleStatuses queues sent/delivered/read (or failed), then a click for
// templates with a URL button. Called with s.mu held.
func (s *Sandbox) scheduleStatuses(si sendInfo) {
	d := s.opts.EventDelay
	metadata := map[string]any{"display_phone_number": digitsOnly(si.phone.Display), "phone_number_id": si.phone.ID}
	convID := randHex(16)
	status := func(st string, withPricing bool) func() *change {
		return func() *change {
			now := s.clock.Now()
			m := map[string]any{
				"id":        si.wamid,
				"status":    st,
				"timestamp": strconv.FormatInt(now.Unix(), 10),
			}
			if si.waID != "" {
				m["recipient_id"] = si.waID
			} else {
				m["user_id"] = si.bsuid
			}
			if si.opaque != "" {
				m["biz_opaque_callback_data"] = si.opaque
			}
			if withPricing {
				m["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "type": "regular", "category": si.category}
				// From v24.0 the conversation object is gone (reference §6.3).
				if s.versionMaj <= 23 {
					m["conversation"] = map[string]any{"id": convID,
						"expiration_timestamp": strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10),
						"origin":               map[string]any{"type": si.category}}
				}
			}
			if st == "failed" {
				f := failures[si.failCode]
				m["errors"] = []any{map[string]any{
					"code": si.failCode, "title": f[0], "message": f[0],
					"error_data": map[string]any{"details": f[1]},
					"href":       "/documentation/business-messaging/whatsapp/support/error-codes",
				}}
			}
			return &change{Field: "messages", Value: map[string]any{
				"messaging_product": "whatsapp", "metadata": metadata, "statuses": []any{m}}}
		}
	}
	if si.failCode != 0 {
		s.enqueueLocked(d, si.wabaID, status("failed", false))
		return
	}
	s.enqueueLocked(d, si.wabaID, status("sent", true))
	s.enqueueLocked(2*d, si.wabaID, status("delivered", true))
	s.enqueueLocked(3*d, si.wabaID, status("read", false))
	if si.clickable {
		s.enqueueLocked(4*d, si.wabaID, func() *change {
			// The documented click payload carries no wamid or recipient;
			// product_id is left out because these templates show no product.
			return &change{Field: "messages", Value: map[string]any{
				"messaging_product": "whatsapp", "metadata": metadata,
				"user_actions": []any{map[string]any{
					"action_type": "marketing_messages_link_click",
					"timestamp":   strconv.FormatInt(s.clock.Now().Unix(), 10),
					"marketing_messages_link_click_data": map[string]any{
						"click_component": "cta",
						"click_id":        randHex(12),
						"tracking_token":  randToken(24),
					},
				}},
			}}
		})
	}
}
