package webhook

import "slices"

// entryWABAs returns the distinct entry ids (WABA ids) of a body, at most max, for choosing which
// connection secrets to try. It runs on bodies nobody has authenticated yet, so it is a single
// pass over the bytes with no recursion and no allocation beyond the ids: on a 50-status body
// encoding/json spent as long as some thirty HMACs of it just to skip the changes
// (BenchmarkVerify compares the costs). A body it
// cannot read names no WABA (only MMC_APP_SECRET and the other secrets are tried); a misread can
// only change which secrets are tried, never what verifies, since the HMAC decides.
func entryWABAs(body []byte, max int) []string {
	sc := scanner{b: body}
	var out []string
	if !sc.objectMembers(func(key []byte) bool {
		if string(key) != "entry" {
			return sc.skipValue()
		}
		return sc.arrayElements(func() bool {
			if sc.peek() != '{' {
				return sc.skipValue()
			}
			return sc.objectMembers(func(key []byte) bool {
				if string(key) != "id" || len(out) >= max {
					return sc.skipValue()
				}
				id, ok := sc.scalar()
				if ok && id != "" && !slices.Contains(out, id) {
					out = append(out, id)
				}
				return ok
			})
		})
	}) {
		return nil
	}
	return out
}

// scanner walks JSON bytes; every method returns false on malformed input.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// str reads a string and returns its raw contents (escapes left as they are).
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return s.b[start : s.i-1], true
		default:
			s.i++
		}
	}
	return nil, false
}

// scalar reads a string or a number (Meta sends ids as either) as text.
func (s *scanner) scalar() (string, bool) {
	if s.peek() == '"' {
		v, ok := s.str()
		return string(v), ok
	}
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || (s.b[s.i] >= '0' && s.b[s.i] <= '9')) {
		s.i++
	}
	if s.i == start {
		return "", s.skipValue() // true, false or null: no id
	}
	return string(s.b[start:s.i]), true
}

// objectMembers calls member for each key of an object, positioned at its value, which member
// must consume.
func (s *scanner) objectMembers(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.eat(':') || !member(key) {
			return false
		}
		if s.eat('}') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// arrayElements calls elem for each element of an array, positioned at it; elem must consume it.
func (s *scanner) arrayElements(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(']') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// skipValue passes over one value of any depth by counting brackets (strings skipped whole), so
// deep nesting costs no stack.
func (s *scanner) skipValue() bool {
	switch s.peek() {
	case 0:
		return false
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	// A number, true, false or null: up to the next delimiter.
	start := s.i
	for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' && s.b[s.i] != ' ' && s.b[s.i] != '\n' && s.b[s.i] != '\t' && s.b[s.i] != '\r' {
		s.i++
	}
	return s.i > start
}
