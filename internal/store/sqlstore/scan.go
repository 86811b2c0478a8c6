package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// timeFormats are the layouts a time may come back in from SQLite when the
// driver did not convert it (expressions, aggregates).
var timeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02",
}

// timeCol scans a timestamp whether the engine returns a time.Time or text.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	case nil:
		*c.t = time.Time{}
		return nil
	}
	return fmt.Errorf("cannot scan %T into a time", src)
}

func (c timeCol) parse(s string) error {
	for _, f := range timeFormats {
		if t, err := time.Parse(f, s); err == nil {
			*c.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("cannot parse time %q", s)
}

// nullTimeCol scans a nullable timestamp into a *time.Time.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// nullTime is a nullable time as a query argument.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

// utc is a time as a query argument. Times are stored in UTC so that
// SQLite's text timestamps compare in time order, and to the microsecond,
// PostgreSQL's precision, so that both engines hold the same instants and a
// registry moved from one to the other answers the same.
func utc(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

// jsonList scans a JSON array of strings stored as text.
type jsonList struct{ s *[]string }

func (c jsonList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*c.s = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("cannot scan %T into a list", src)
	}
	if len(b) == 0 {
		*c.s = nil
		return nil
	}
	return json.Unmarshal(b, c.s)
}

// listArg is a list of strings as a query argument (JSON text).
func listArg(s []string) driver.Value {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// bytesCol scans text or bytes into a []byte copy.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.b = nil
	case string:
		*c.b = []byte(v)
	case []byte:
		*c.b = append([]byte(nil), v...)
	default:
		return fmt.Errorf("cannot scan %T into bytes", src)
	}
	return nil
}
