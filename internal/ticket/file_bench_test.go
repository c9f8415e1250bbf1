package ticket

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Per-call time of a comment on the file tracker with n tickets present.
// Run with
//
//	go test -run NONE -bench . -benchtime 200x ./internal/ticket/
func BenchmarkComment(b *testing.B) {
	root := b.TempDir()
	seeded := map[int]bool{}
	for _, n := range []int{100, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := filepath.Join(root, fmt.Sprint(n))
			if !seeded[n] {
				if err := seedTickets(dir, n); err != nil {
					b.Fatal(err)
				}
				seeded[n] = true
			}
			f := NewFile(dir)
			ctx := context.Background()
			if _, _, err := f.Read("PL-0001"); err != nil { // opened before timing
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				key := fmt.Sprintf("PL-%04d", (i*7919)%n+1)
				if err := f.Comment(ctx, Comment{Ticket: key, Public: i%2 == 0, Body: "Your endpoint is ready.", IdempotencyKey: fmt.Sprint("bench-", b.N, "-", i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedTickets writes n tickets, PL-0001 on, each with an entry and its
// Markdown, as the tracker would have.
func seedTickets(dir string, n int) error {
	f := NewFile(dir)
	defer f.Close()
	opened := time.Now().UTC()
	return f.update(func(t *fileTx) error {
		if _, err := t.Exec(`UPDATE meta SET value = ? WHERE key = 'seq'`, n); err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			company := fmt.Sprintf("Company %d", i)
			tk := &fileTicket{Ticket: Ticket{Key: fmt.Sprintf("PL-%04d", i), Subject: Subject(company), Status: StatusOpen},
				Company: company, Requester: "sam@platform.example", Project: "abcd1234efgh5", Opened: opened}
			tk.URL = "file://" + f.MarkdownPath(tk.Key)
			if err := t.putTicket(tk); err != nil {
				return err
			}
			if err := t.addEntry(tk.Key, fileEntry{At: opened, Kind: "note", Author: tk.Requester, Body: "requested"}); err != nil {
				return err
			}
			if err := t.render(tk); err != nil {
				return err
			}
		}
		return nil
	})
}
