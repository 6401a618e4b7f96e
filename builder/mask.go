package builder

import (
	"bytes"
	"io"
	"sync"

	"github.com/pys2i/pys2i/internal/redact"
)

// LineWriter passes output through line by line (a line ends at \n or \r),
// with credentials in URLs masked. Safe for concurrent use; Flush writes a
// final partial line.
type LineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewLineWriter returns a LineWriter writing to w.
func NewLineWriter(w io.Writer) *LineWriter { return &LineWriter{w: w} }

func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexAny(l.buf, "\n\r")
		if i < 0 {
			break
		}
		if _, err := io.WriteString(l.w, redact.URL(string(l.buf[:i+1]))); err != nil {
			return len(p), err
		}
		l.buf = l.buf[i+1:]
	}
	// A very long line without a newline is flushed rather than held.
	if len(l.buf) > 64<<10 {
		_, err := io.WriteString(l.w, redact.URL(string(l.buf)))
		l.buf = l.buf[:0]
		return len(p), err
	}
	return len(p), nil
}

// Flush writes what is left of an unterminated line.
func (l *LineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(l.w, redact.URL(string(l.buf)))
	l.buf = nil
	return err
}
