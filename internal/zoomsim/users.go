package zoomsim

import "net/http"

func (s *Server) getUser(c *call) (int, any, error) {
	u, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{
		"id": u.ID, "email": u.Email, "first_name": u.FirstName, "last_name": u.LastName,
		"display_name": u.FirstName + " " + u.LastName, "type": u.Type, "account_id": u.AccountID,
		"pmi": u.PMI, "timezone": u.Timezone, "status": "active", "verified": 1, "language": "ja-JP",
		"role_name": "Owner", "use_pmi": false, "created_at": u.CreatedAt.UTC().Format(zoomTime),
		"personal_meeting_url": s.opts.BaseURL + "/j/" + itoa(u.PMI),
	}, nil
}

// getUserSettings answers the settings object; schedule_meeting carries the
// passcode policy that kaisai generates passcodes to.
func (s *Server) getUserSettings(c *call) (int, any, error) {
	u, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	p := u.Policy
	return http.StatusOK, map[string]any{
		"schedule_meeting": map[string]any{
			"host_video": false, "participants_video": false, "join_before_host": false,
			"audio_type": "voip", "embed_password_in_join_link": true,
			"require_password_for_scheduling_new_meetings": u.RequirePasscode,
			"require_password_for_scheduled_meetings":      u.RequirePasscode,
			"require_password_for_instant_meetings":        u.RequirePasscode,
			"require_password_for_pmi_meetings":            "all",
			"use_pmi_for_scheduled_meetings":               false,
			"use_pmi_for_instant_meetings":                 false,
			"meeting_password_requirement": map[string]any{
				"length": p.Length, "have_letter": p.HaveLetter, "have_number": p.HaveNumber,
				"have_special_character": p.HaveSpecialCharacter, "only_allow_numeric": p.OnlyAllowNumeric,
				"have_upper_and_lower_characters": p.HaveUpperAndLowerCharacters,
				"consecutive_characters_length":   p.ConsecutiveCharactersLength,
				"weak_enhance_detection":          p.WeakEnhanceDetection,
			},
		},
		"in_meeting": map[string]any{"waiting_room": false},
		"feature":    map[string]any{"meeting_capacity": capacity(u.Type)},
	}, nil
}

func capacity(userType int) int {
	if userType == UserLicensed {
		return 300
	}
	return 100
}
