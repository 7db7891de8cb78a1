package main

import (
	"bytes"
	"regexp"
	"sync"
)

// numberScan notes the phone numbers a replica's output spells out whole,
// line by line, for the verdict: a log line naming a caller is a defect
// (Ringback logs no caller's number and masks those in its errors' text).
type numberScan struct {
	mu      sync.Mutex
	partial []byte            // the line being written
	first   map[string]string // number → the first line naming it
}

// maxScanLine bounds a line the scan waits for the end of.
const maxScanLine = 64 << 10

// wholeNumber is an E.164 number spelt out. The check keeps its own
// pattern rather than the masking's (bot.MaskNumbers): a shape the mask
// missed would then slip past the check too.
var wholeNumber = regexp.MustCompile(`\+[1-9][0-9]{6,14}`)

func (s *numberScan) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(s.partial[:i])
		s.partial = s.partial[i+1:]
	}
	if len(s.partial) > maxScanLine {
		s.line(s.partial)
		s.partial = nil
	}
	return len(p), nil
}

func (s *numberScan) line(l []byte) {
	for _, m := range wholeNumber.FindAll(l, -1) {
		if s.first == nil {
			s.first = map[string]string{}
		}
		if _, ok := s.first[string(m)]; !ok {
			s.first[string(m)] = string(l[:min(len(l), 400)])
		}
	}
}

// named returns the numbers seen so far, each with the first line naming it.
func (s *numberScan) named(into map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, l := range s.first {
		if _, ok := into[n]; !ok {
			into[n] = l
		}
	}
}
