package tariff

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "minimal",
			in:   "T1;id=a;v=0;cur=CNY;sc=0",
			want: "T1;id=a;v=0;cur=CNY;sc=0;tz=UTC",
		},
		{
			name: "any order, defaults written",
			in:   "T1;cap=9;out=1/MB;sc=2;cur=EUR;tz=Europe/Berlin;v=7;id=x.y_z-1;time=3/60s;fee=0",
			want: "T1;id=x.y_z-1;v=7;cur=EUR;sc=2;tz=Europe/Berlin;fee=0;time=3/1m/up;out=1/MB/up;cap=9",
		},
		{
			name: "volume order in out",
			in:   "T1;id=a;v=1;cur=CNY;sc=2;out=2/GiB/near;in=1@0,5/KB/down",
			want: "T1;id=a;v=1;cur=CNY;sc=2;tz=UTC;in=1@0,5/KB/down;out=2/GiB/near",
		},
		{
			name: "increments",
			in:   "T1;id=a;v=1;cur=CNY;sc=2;time=1/7200s/near",
			want: "T1;id=a;v=1;cur=CNY;sc=2;tz=UTC;time=1/2h/near",
		},
		{
			name: "90 seconds",
			in:   "T1;id=a;v=1;cur=CNY;sc=2;time=1/90s",
			want: "T1;id=a;v=1;cur=CNY;sc=2;tz=UTC;time=1/90s/up",
		},
		{
			name: "bands sorted, midnight, multipliers",
			in:   "T1;id=a;v=1;cur=CNY;sc=2;time=10/1m;band=z/18:00-00:00/x1.500;band=a/00:00-06:00/x0.05;band=m/08:00-09:00/x2.0",
			want: "T1;id=a;v=1;cur=CNY;sc=2;tz=UTC;time=10/1m/up;band=a/00:00-06:00/x0.05;band=m/08:00-09:00/x2;band=z/18:00-24:00/x1.5",
		},
		{
			name: "both",
			in:   "T1;id=a;v=1;cur=CNY;sc=9;both=9223372036854775807/GB",
			want: "T1;id=a;v=1;cur=CNY;sc=9;tz=UTC;both=9223372036854775807/GB/up",
		},
		{
			name: "zone with plus",
			in:   "T1;id=a;v=4294967295;cur=CNY;sc=2;tz=Etc/GMT+5",
			want: "T1;id=a;v=4294967295;cur=CNY;sc=2;tz=Etc/GMT+5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := tf.String(); got != tt.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tt.want)
			}
			tf2, err := Parse(tf.String())
			if err != nil {
				t.Fatal(err)
			}
			if !tf2.Equal(tf) {
				t.Error("Parse(String()) not Equal")
			}
		})
	}
}

func TestParseAccessors(t *testing.T) {
	tf, err := Parse("T1;id=home-50;v=3;cur=CNY;sc=4;tz=Asia/Shanghai;cap=7")
	if err != nil {
		t.Fatal(err)
	}
	if tf.ID() != "home-50" || tf.Version() != 3 || tf.Currency() != "CNY" || tf.Scale() != 4 || tf.Location().String() != "Asia/Shanghai" {
		t.Errorf("accessors: %q %d %q %d %v", tf.ID(), tf.Version(), tf.Currency(), tf.Scale(), tf.Location())
	}
	if c, ok := tf.Cap(); c != 7 || !ok {
		t.Errorf("Cap() = %d, %v", c, ok)
	}
	for _, tc := range []struct {
		amount int64
		want   string
	}{
		{0, "0.0000 CNY"}, {5, "0.0005 CNY"}, {12345, "1.2345 CNY"}, {-12345, "-1.2345 CNY"},
		{-9223372036854775808, "-922337203685477.5808 CNY"},
	} {
		if got := tf.FormatAmount(tc.amount); got != tc.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", tc.amount, got, tc.want)
		}
	}
	tf0, _ := Parse("T1;id=a;v=1;cur=JPY;sc=0")
	if got := tf0.FormatAmount(-7); got != "-7 JPY" {
		t.Errorf("FormatAmount at scale 0 = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	const h = "T1;id=a;v=1;cur=CNY;sc=2" // 24 octets
	tests := []struct {
		name   string
		in     string
		offset int
		msg    string
	}{
		{"empty", "", 0, "must begin with"},
		{"wrong tag", "T2;id=a", 0, "must begin with"},
		{"space", "T1; id=a", 3, "0x20"},
		{"non-ascii", "T1;id=é", 6, "0xc3"},
		{"too long", "T1;" + strings.Repeat("x", MaxText), MaxText, "longer than"},
		{"empty item", h + ";;fee=1", 25, "empty item"},
		{"trailing semicolon", h + ";", 25, "empty item"},
		{"no equals", h + ";fee", 25, "no '='"},
		{"unknown item", h + ";tax=5", 25, "unknown item \"tax\""},
		{"duplicate", h + ";fee=1;fee=2", 31, "given twice"},
		{"missing id", "T1;v=1;cur=CNY;sc=2", 19, "\"id\" is required"},
		{"missing sc", "T1;id=a;v=1;cur=CNY", 19, "\"sc\" is required"},
		{"id chars", "T1;id=a b", 7, "0x20"},
		{"id char", "T1;id=a/b;v=1", 7, "'/' not allowed"},
		{"id too long", "T1;id=" + strings.Repeat("a", 33), 6, "1 to 32"},
		{"version overflow", "T1;id=a;v=4294967296", 10, "larger than"},
		{"version leading zero", "T1;id=a;v=01", 10, "leading zero"},
		{"currency lower", "T1;id=a;v=1;cur=cny", 16, "3 capital"},
		{"currency length", "T1;id=a;v=1;cur=CN", 16, "3 capital"},
		{"scale 10", "T1;id=a;v=1;cur=CNY;sc=10", 23, "larger than 9"},
		{"price sign", h + ";fee=-1", 29, "'-' is not a digit"},
		{"price overflow", h + ";fee=9223372036854775808", 29, "larger than"},
		{"price empty", h + ";fee=", 29, "want a number"},
		{"time parts", h + ";time=5", 30, "<price>/<increment>"},
		{"time unit", h + ";time=5/1d", 33, "unit must be"},
		{"time zero", h + ";time=5/0s", 32, "at least 1s"},
		{"time too long", h + ";time=5/25h", 32, "larger than 24"},
		{"time rounding", h + ";time=5/1m/ceil", 35, "want up, down or near"},
		{"volume unit", h + ";out=5/mb", 31, "unit \"mb\""},
		{"volume last tier", h + ";out=5@1/MB", 29, "last tier"},
		{"volume tier form", h + ";out=5,1/MB", 29, "want <units>@<price>"},
		{"volume empty tier", h + ";out=0@1,2/MB", 29, "no units"},
		{"volume tiers", h + ";out=1@1,1@1,1@1,1@1,1@1,1@1,1@1,1@1,1/MB", 29, "more than 8"},
		{"both with in", h + ";in=1/MB;both=1/MB", 33, "cannot be combined"},
		{"in with both", h + ";both=1/MB;in=1/MB", 35, "cannot be combined"},
		{"band without time", h + ";band=p/08:00-09:00/2", 25, "need a time item"},
		{"band form", h + ";time=1/1m;band=p/08:00/2", 42, "<HH:MM>-<HH:MM>"},
		{"band clock", h + ";time=1/1m;band=p/8:00-09:00/2", 42, "want HH:MM"},
		{"band hour", h + ";time=1/1m;band=p/25:00-09:00/2", 42, "out of range"},
		{"band 24 start", h + ";time=1/1m;band=p/24:00-09:00/2", 42, "out of range"},
		{"band minute", h + ";time=1/1m;band=p/08:60-09:00/2", 42, "out of range"},
		{"band empty", h + ";time=1/1m;band=p/08:00-08:00/2", 42, "empty or covers"},
		{"band whole day", h + ";time=1/1m;band=p/00:00-24:00/2", 42, "empty or covers"},
		{"band overlap", h + ";time=1/1m;band=p/08:00-10:00/2;band=q/09:59-11:00/3", 56, "overlaps band \"p\" at 09:59"},
		{"band overlap wrap", h + ";time=1/1m;band=n/22:00-06:00/2;band=q/05:00-07:00/3", 56, "overlaps band \"n\" at 05:00"},
		{"band twice", h + ";time=1/1m;band=p/08:00-09:00/2;band=p/10:00-11:00/3", 61, "given twice"},
		{"band name", h + ";time=1/1m;band=p.q/08:00-09:00/2", 41, "'.' not allowed"},
		{"band multiplier", h + ";time=1/1m;band=p/08:00-09:00/x1.2345", 57, "1 to 3 digits"},
		{"band multiplier digit", h + ";time=1/1m;band=p/08:00-09:00/x1.a", 57, "'a' is not a digit"},
		{"band multiplier overflow", h + ";time=9223372036854775807/1m;band=p/08:00-09:00/x2", 53, "overflows"},
		{"bands too many", h + ";time=1/1m;band=a/01:00-02:00/1;band=b/02:00-03:00/1;band=c/03:00-04:00/1;band=d/04:00-05:00/1;band=e/05:00-06:00/1;band=f/06:00-07:00/1;band=g/07:00-08:00/1;band=h/08:00-09:00/1;band=i/09:00-10:00/1", 203, "more than 8"},
		{"zone unknown", h + ";tz=Mars/Olympus", 28, "unknown time zone"},
		{"zone local", h + ";tz=Local", 28, "depends on the machine"},
		{"zone path", h + ";tz=/etc/passwd", 28, "misplaced '/'"},
		{"zone dotdot", h + ";tz=../x", 28, "'.' not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %s", tf)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v is not ErrSyntax", err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SyntaxError", err)
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got %v; want offset %d and %q", err, tt.offset, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "tariff: offset ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}
