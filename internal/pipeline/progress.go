package pipeline

import (
	"time"
)

// Progress is a snapshot for a progress line.
type Progress struct {
	Objects, Units     int64
	BytesIn, BytesRead int64
	Elapsed            time.Duration
}

func (r *runner) startProgress() func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	report := func() {
		r.cfg.Progress(Progress{Objects: r.objects.Load(), Units: r.units.Load(),
			BytesIn: r.bytesIn.Load(), BytesRead: r.bytesRead.Load(), Elapsed: time.Since(start)})
	}
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				report()
			case <-done:
				report()
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}
