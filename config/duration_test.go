package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"90s", 90 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, ""},
		{"1d", 24 * time.Hour, ""},
		{"2d12h", 60 * time.Hour, ""},
		{"1d30m", 24*time.Hour + 30*time.Minute, ""},
		{" 10m ", 10 * time.Minute, ""},
		{"2 minutes", 0, `config: "2 minutes" is not a duration`},
		{"18", 0, `config: "18" is not a duration`},
		{"d", 0, `config: "d" is not a duration`},
		{"1.5d", 0, `config: "1.5d" is not a duration`},
		{"1d-1h", 0, `config: "1d-1h" is not a duration`},
		{"-5m", 0, `config: "-5m" is negative`},
		{"", 0, `config: "" is not a duration`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDuration(%q) = %v, %v; want error %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
