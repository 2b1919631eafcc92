// Package e2e holds kaisai's end-to-end tests: a real kaisai on a free port,
// driven through headless Chromium with chromedp, as organizers and
// participants use it. It has no code of its own beyond the tests.
package e2e
