package webhook

import (
	"context"
	"database/sql"
	"fmt"
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
	// walRestartFrames bounds the WAL: a passive checkpoint cannot rewind it while the writer
	// keeps appending, so past this many frames (64 MB of 4 KB pages) the checkpointer waits for
	// the writer once and restarts it from the beginning.
	walRestartFrames = 16384
)

// writerConn takes the connection the writer commits on, with automatic checkpoints off, and
// a GORM handle bound to it.
func writerConn(db *gorm.DB) (*sql.Conn, *gorm.DB, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: writer connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("webhook: writer connection: %w", err)
	}
	w := db.Session(&gorm.Session{Context: ctx})
	w.Statement.ConnPool = conn // *sql.Conn begins transactions like the pool does
	return conn, w, nil
}

// releaseWriterConn gives the connection back to the pool as it found it.
func releaseWriterConn(conn *sql.Conn) {
	conn.ExecContext(context.Background(), "PRAGMA wal_autocheckpoint = 1000")
	conn.Close()
}

// checkpointer checkpoints the WAL after commits (at most every checkpointEvery) until stop is
// closed.
func (s *Service) checkpointer(kick, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-kick:
		case <-stop:
			return
		}
		var busy, frames, copied int
		if err := s.db.Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &frames, &copied); err != nil {
			s.log.Warn("webhook: WAL checkpoint", "err", err)
		} else if frames > walRestartFrames {
			if err := s.db.Exec("PRAGMA wal_checkpoint(RESTART)").Error; err != nil {
				s.log.Warn("webhook: WAL checkpoint (restart)", "err", err)
			}
		}
		select {
		case <-time.After(checkpointEvery):
		case <-stop:
			return
		}
	}
}
