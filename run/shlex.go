package run

import (
	"fmt"
	"strings"
)

// SplitArgs splits s into words as a POSIX shell does for a simple command's
// words, quotes included, but without expansions: blanks separate words,
// '...' is literal, "..." keeps blanks and honours \\ \" \$ \` and
// backslash-newline, and a backslash outside quotes escapes the next
// character. This is how gunicorn itself splits GUNICORN_CMD_ARGS (Python's
// shlex.split). Unterminated quotes and a trailing backslash are errors.
func SplitArgs(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		quoteAt int
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
			continue
		case '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(rs) && strings.ContainsRune("\\\"$`\n", rs[i+1]):
				i++
				if rs[i] != '\n' {
					cur.WriteRune(rs[i])
				}
			default:
				cur.WriteRune(c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case '\'', '"':
			quote, quoteAt, inWord = c, i, true
		case '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("trailing backslash at the end of %q", s)
			}
			i++
			if rs[i] != '\n' {
				cur.WriteRune(rs[i])
				inWord = true
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		kind := "single"
		if quote == '"' {
			kind = "double"
		}
		return nil, fmt.Errorf("unterminated %s quote at position %d of %q", kind, quoteAt+1, s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
