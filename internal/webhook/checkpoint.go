package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"gorm.io/gorm"
)

// SQLite checkpoints the WAL into the database file from the connection that commits, once the
// WAL passes 1,000 pages; the checkpoint copies the pages and fsyncs the file. On the writer
// that wait (invisible in a CPU profile) was on every request's path, and under load it ran
// every few groups: about a third of the throughput. So the writer commits on a connection of
// its own that never checkpoints, and checkpointer does it in the background, where the copy
// and fsync overlap with the next groups. Durability does not change: a group is acknowledged
// once its commit is in the WAL, as before.
const (
	checkpointEvery = 200 * time.Millisecond // the least time between background checkpoints
	// idleTruncateAfter is how long the writer must have had nothing to commit before the WAL
	// is checkpointed and truncated to nothing: a restarted WAL is reused, never shrunk, so
	// after a burst it would otherwise keep its largest size on disk.
	idleTruncateAfter = time.Second
	walSampleEvery    = 5 * time.Second // how often the WAL's size is read when nothing happens
)

// Under sustained load a passive checkpoint cannot rewind the WAL while the writer keeps
// appending, so past Options.WALSizeLimit worth of frames the checkpointer waits for the writer
// once and restarts it from the beginning; journal_size_limit on the writer's connection then
// cuts the file back to that size when the writer next rewinds it.

// writerConn takes the connection the writer commits on, with automatic checkpoints off (on
// SQLite), and a GORM handle bound to it.
func (s *Service) writerConn() (*sql.Conn, *gorm.DB, error) {
	db := s.db
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: writer connection: %w", err)
	}
	var pragmas []string
	if s.dia.hasWAL() {
		pragmas = []string{"PRAGMA wal_autocheckpoint = 0", fmt.Sprintf("PRAGMA journal_size_limit = %d", s.opts.WALSizeLimit)}
	}
	for _, q := range pragmas {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("webhook: writer connection: %w", err)
		}
	}
	w := db.Session(&gorm.Session{Context: ctx})
	w.Statement.ConnPool = conn // *sql.Conn begins transactions like the pool does
	return conn, w, nil
}

// releaseWriterConn gives the writer's connection back to the pool as it found it.
func (s *Service) releaseWriterConn(w *writer) {
	conn := w.conn
	w.conn, w.db = nil, nil
	if s.dia.hasWAL() {
		conn.ExecContext(context.Background(), "PRAGMA wal_autocheckpoint = 1000")
		conn.ExecContext(context.Background(), "PRAGMA journal_size_limit = -1")
	}
	conn.Close()
}

// checkpointer checkpoints the WAL after commits (at most every checkpointEvery), truncates it
// once the writer has been idle for idleTruncateAfter, and reports its size, until stop is
// closed.
func (s *Service) checkpointer(kick, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	wal := s.walPath()
	restartFrames := 16384
	var pageSize int
	if err := s.db.Raw("PRAGMA page_size").Scan(&pageSize).Error; err == nil && pageSize > 0 {
		restartFrames = int(s.opts.WALSizeLimit / int64(pageSize))
	}
	idle := time.NewTimer(idleTruncateAfter)
	defer idle.Stop()
	sample := time.NewTicker(walSampleEvery)
	defer sample.Stop()
	truncated := false
	for {
		select {
		case <-stop:
			return
		case <-sample.C:
			s.sampleWAL(wal)
			continue
		case <-idle.C:
			if !truncated {
				// Waits (busy timeout) for readers to leave the WAL; the writer has nothing to do.
				if err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
					s.log.Warn("webhook: WAL checkpoint (truncate)", "err", err)
				} else {
					truncated = true
				}
			}
			s.sampleWAL(wal)
			continue
		case <-kick:
		}
		truncated = false
		var busy, frames, copied int
		if err := s.db.Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &frames, &copied); err != nil {
			s.log.Warn("webhook: WAL checkpoint", "err", err)
		} else if frames > restartFrames {
			if err := s.db.Exec("PRAGMA wal_checkpoint(RESTART)").Error; err != nil {
				s.log.Warn("webhook: WAL checkpoint (restart)", "err", err)
			}
		}
		s.sampleWAL(wal)
		idle.Reset(idleTruncateAfter)
		select {
		case <-time.After(checkpointEvery):
		case <-stop:
			return
		}
	}
}

// walHardFactor times WALSizeLimit is the WAL size past which the writer stops to checkpoint.
const walHardFactor = 2

// boundWAL is the writer's own brake. On a busy machine the background checkpointer can fall
// behind (seen: a WAL of 441 MB with a 64 MB limit, under a load average of 19): every group
// dirties pages of the random-key indexes, so the WAL grows by several KB per event, and the
// checkpoint that should rewind it copies ever more. Past walHardFactor × WALSizeLimit the
// writer checkpoints and restarts the WAL itself, between two groups, so the WAL stays bounded
// at the cost of that one pause. The file's size is a cheap, safe signal: journal_size_limit
// cuts it back to the limit at every restart, so it is larger only while the WAL really is.
func (s *Service) boundWAL(w *writer, path string) {
	if path == "" || w.conn == nil {
		return
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() <= walHardFactor*s.opts.WALSizeLimit {
		return
	}
	// The background checkpointer may be in the middle of a checkpoint (then this one answers
	// busy at once): wait for it a little, but never stop the writer for long.
	for range 20 {
		var busy, frames, copied int
		err := w.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied)
		if err != nil {
			s.log.Warn("webhook: WAL checkpoint by the writer", "err", err, "wal_bytes", st.Size())
			return
		}
		if busy == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// walPath is the database's -wal file ("" for a database without a file, and on PostgreSQL).
func (s *Service) walPath() string {
	if !s.dia.hasWAL() {
		return ""
	}
	var file string
	if err := s.db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil || file == "" {
		return ""
	}
	return file + "-wal"
}

// sampleWAL reports the WAL's size, and logs when it passes the alert size.
func (s *Service) sampleWAL(path string) {
	if path == "" {
		return
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	s.m.WALBytes.Set(float64(size))
	over := size > s.opts.WALAlertSize
	if over && !s.walOver {
		s.log.Warn("webhook: the database's WAL is over its alert size", "bytes", size, "alert_bytes", s.opts.WALAlertSize)
	}
	s.walOver = over
	if over {
		s.m.WALOverLimit.Set(1)
	} else {
		s.m.WALOverLimit.Set(0)
	}
}
