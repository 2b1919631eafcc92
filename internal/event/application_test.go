package event

import "testing"

func TestSameSubmission(t *testing.T) {
	first := Application{ScheduleID: 7, Name: "山田 花子", Email: "Hanako@example.com"}
	tests := []struct {
		name string
		in   ApplicationInput
		want bool
	}{
		{"the same form again", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "Hanako@example.com"}, true},
		{"e-mail in other case", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "hanako@EXAMPLE.com"}, true},
		{"name corrected", ApplicationInput{ScheduleID: 7, Name: "山田 華子", Email: "Hanako@example.com"}, true},
		{"another person", ApplicationInput{ScheduleID: 7, Name: "佐藤 次郎", Email: "jiro@example.com"}, false},
		{"another e-mail", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "hanako@example.net"}, false},
		{"another date", ApplicationInput{ScheduleID: 8, Name: "山田 花子", Email: "Hanako@example.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := first.SameSubmission(tt.in); got != tt.want {
				t.Errorf("SameSubmission(%+v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
