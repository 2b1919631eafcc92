package stripesim

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The hosted Checkout page (/c/…), what a buyer sees, and the web UI at
// /, what a person running the simulator sees: accounts and keys,
// sessions, payment intents, vouchers and transfers to pay or let lapse,
// refunds to settle, webhook deliveries, the clock. Both in Japanese.
// Forms POST and redirect (303); the UI's outcome comes back in ?msg=.

var uiFuncs = template.FuncMap{
	"yen": yen,
	"jst": func(unix any) string {
		var n int64
		switch v := unix.(type) {
		case int64:
			n = v
		case float64:
			n = int64(v)
		case int:
			n = int64(v)
		default:
			return ""
		}
		return time.Unix(n, 0).In(jst).Format("2006-01-02 15:04:05 JST")
	},
	"str": func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	},
}

// yen formats a jpy amount: 3000 → ¥3,000.
func yen(v any) string {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		n = int64(x)
	case int:
		n = int64(x)
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return "¥" + b.String()
}

const pageHead = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:15px/1.5 system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0 auto;max-width:60em;padding:0 1em}
.banner{background:#fde68a;border:1px solid #b45309;padding:.5em 1em;margin:1em 0}
.msg{background:#e0f2fe;border:1px solid #0369a1;padding:.5em 1em}.err{background:#fee2e2;border:1px solid #b91c1c;padding:.5em 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
fieldset{margin:1em 0}form.inline{display:inline}code{font-size:90%}
</style></head><body>
<p class="banner"><strong>Stripe シミュレーター</strong> — 開発とテストのための Stripe の代役です。本物の Stripe ではなく、お金は動きません。</p>
`

var checkoutPage = template.Must(template.New("checkout").Funcs(uiFuncs).Parse(pageHead + `
<h1>お支払い</h1>
{{with .Err}}<p class="err">{{.}}</p>{{end}}
{{$s := .Session}}
<table>{{range .Items}}<tr><td>{{.Name}}</td><td>{{.Quantity}} 点</td><td>{{yen .UnitAmount}}</td></tr>{{end}}
<tr><th colspan="2">合計</th><th>{{yen .Total}}</th></tr></table>
<p>お支払い期限: {{jst $s.ExpiresAt}}</p>
{{if eq $s.Status "open"}}
{{if .Card}}<form method="post" action="/c/pay/{{$s.ID}}"><fieldset><legend>カード</legend>
<input type="hidden" name="method" value="card">
<label>メールアドレス <input type="email" name="email" value="{{$s.CustomerEmail}}"></label><br>
<label>カード番号 <input type="text" name="card" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242"></label><br>
<small>テストカード: 4242 4242 4242 4242(成功)、4000 0000 0000 0002(拒否)、4000 0000 0000 3220(3D セキュア)</small><br>
<button>{{yen .Total}} を支払う</button></fieldset></form>{{end}}
{{if .Konbini}}<form method="post" action="/c/pay/{{$s.ID}}"><fieldset><legend>コンビニ</legend>
<input type="hidden" name="method" value="konbini">
<label>メールアドレス <input type="email" name="email" value="{{$s.CustomerEmail}}"></label><br>
<small>ファミリーマート、ローソン、ミニストップ、セイコーマートでお支払いいただけます。</small><br>
<button>支払い番号を発行する</button></fieldset></form>{{end}}
{{if .Transfer}}<form method="post" action="/c/pay/{{$s.ID}}"><fieldset><legend>銀行振込</legend>
<input type="hidden" name="method" value="customer_balance">
<label>メールアドレス <input type="email" name="email" value="{{$s.CustomerEmail}}"></label><br>
<button>振込先を表示する</button></fieldset></form>{{end}}
{{with $s.CancelURL}}<p><a href="{{.}}">戻る(キャンセル)</a></p>{{end}}
{{else if eq $s.Status "expired"}}<p class="err">このお支払いページは期限切れです。</p>
{{else}}<p class="msg">このお支払いは完了しています。</p>{{end}}
</body></html>`))

var threeDSPage = template.Must(template.New("3ds").Funcs(uiFuncs).Parse(pageHead + `
<h1>3D セキュア認証</h1>
<p>カード発行会社による本人認証(テスト)です。{{yen .Total}} のお支払いを認証しますか。</p>
<form method="post" action="/c/3ds/{{.Session.ID}}"><button name="ok" value="true">認証する</button>
<button name="ok" value="false">認証に失敗する</button></form>
</body></html>`))

var voucherPage = template.Must(template.New("voucher").Funcs(uiFuncs).Parse(pageHead + `
{{$pi := .Intent}}
{{if .Voucher}}<h1>コンビニでのお支払い</h1>
<table><tr><th>金額</th><td>{{yen $pi.Amount}}</td></tr>
<tr><th>お支払い番号(確認番号)</th><td><code>{{.Voucher.ConfirmationNumber}}</code></td></tr>
<tr><th>お支払い期限</th><td>{{jst .Voucher.ExpiresAt}}</td></tr>
<tr><th>ご利用いただけるコンビニ</th><td>ファミリーマート、ローソン、ミニストップ、セイコーマート</td></tr></table>
{{else}}<h1>銀行振込でのお支払い</h1>
<table><tr><th>金額</th><td>{{yen $pi.Amount}}</td></tr>
<tr><th>銀行</th><td>{{.Transfer.BankName}}({{.Transfer.BankCode}})</td></tr>
<tr><th>支店</th><td>{{.Transfer.BranchName}}({{.Transfer.BranchCode}})</td></tr>
<tr><th>口座</th><td>普通 {{.Transfer.AccountNumber}}</td></tr>
<tr><th>口座名義</th><td>{{.Transfer.AccountHolder}}</td></tr>
<tr><th>参照番号</th><td><code>{{.Transfer.Reference}}</code></td></tr></table>{{end}}
<p>状態: {{if eq $pi.Status "succeeded"}}お支払い済み{{else if eq $pi.Status "canceled"}}期限切れ{{else}}お支払い待ち{{end}}</p>
{{with .Next}}<p><a href="{{.}}">お申し込み先のサイトに戻る</a></p>{{end}}
</body></html>`))

var donePage = template.Must(template.New("done").Funcs(uiFuncs).Parse(pageHead + `
<h1>お支払いが完了しました</h1><p>このページを閉じてください。</p></body></html>`))

var uiPage = template.Must(template.New("ui").Funcs(uiFuncs).Parse(pageHead + `
<p>制御 API: <a href="/_sim/state">/_sim/state</a>、<a href="/_sim/webhooks">/_sim/webhooks</a>。現在時刻(シミュレーター): {{(.State.Now.In .JST).Format "2006-01-02 15:04:05 MST"}}</p>
{{with .Msg}}<p class="msg">{{.}}</p>{{end}}
<form method="post" action="/_ui/clock">時計を進める <input type="text" name="advance" value="1h" size="6"> <button>進める</button></form>

<h2>アカウントと API キー</h2>
<table><tr><th>ID</th><th>表示名</th><th>国</th><th>シークレットキー</th><th>制限付きキー</th></tr>
{{range .State.Accounts}}<tr><td>{{.ID}}</td><td>{{.DisplayName}}</td><td>{{.Country}}</td><td><code>{{.SecretKey}}</code></td><td><code>{{.RestrictedKey}}</code></td></tr>{{end}}</table>

<h2>Checkout セッション</h2>
<table><tr><th>ID</th><th>状態</th><th>入金</th><th>金額</th><th>client_reference_id</th><th>期限</th><th></th></tr>
{{range .State.Sessions}}<tr><td><code>{{.id}}</code></td><td>{{.status}}</td><td>{{.payment_status}}</td><td>{{yen .amount_total}}</td>
<td>{{str .client_reference_id}}</td><td>{{jst .expires_at}}</td><td>{{with .url}}<a href="{{.}}">支払いページ</a>{{end}}</td></tr>{{else}}<tr><td colspan="7">まだありません。</td></tr>{{end}}</table>

<h2>PaymentIntent(支払い)</h2>
<table><tr><th>ID</th><th>状態</th><th>金額</th><th>次の操作</th><th></th></tr>
{{range .State.PaymentIntents}}<tr><td><code>{{.id}}</code></td><td>{{.status}}</td><td>{{yen .amount}}</td>
<td>{{with .next_action}}{{.type}}{{end}}</td>
<td>{{if .next_action}}{{if ne .next_action.type "redirect_to_url"}}<form class="inline" method="post" action="/_ui/payment_intents/{{.id}}/pay"><select name="store">
<option value="familymart">ファミリーマート</option><option value="lawson">ローソン</option><option value="ministop">ミニストップ</option><option value="seicomart">セイコーマート</option></select>
<button>入金する</button></form>
<form class="inline" method="post" action="/_ui/payment_intents/{{.id}}/lapse"><button>期限切れにする</button></form>{{end}}{{end}}</td></tr>{{else}}<tr><td colspan="5">まだありません。</td></tr>{{end}}</table>

<h2>返金</h2>
<table><tr><th>ID</th><th>状態</th><th>金額</th><th>PaymentIntent</th><th></th></tr>
{{range .State.Refunds}}<tr><td><code>{{.id}}</code></td><td>{{.status}}{{with .failure_reason}}({{.}}){{end}}</td><td>{{yen .amount}}</td><td><code>{{.payment_intent}}</code></td>
<td>{{if eq .status "pending"}}<form class="inline" method="post" action="/_ui/refunds/{{.id}}/succeed"><button>成功させる</button></form>
<form class="inline" method="post" action="/_ui/refunds/{{.id}}/fail"><button>失敗させる</button></form>
{{else if eq .status "requires_action"}}口座情報の依頼を {{.instructions_email}} に送信済み<br>
<form class="inline" method="post" action="/_ui/refunds/{{.id}}/succeed"><button>口座情報が届き返金完了</button></form>
<form class="inline" method="post" action="/_ui/refunds/{{.id}}/fail"><button>失敗させる</button></form>{{end}}</td></tr>{{else}}<tr><td colspan="5">まだありません。</td></tr>{{end}}</table>

<h2>Webhook エンドポイント</h2>
<table><tr><th>ID</th><th>URL</th><th>イベント</th><th>署名シークレット</th></tr>
{{range .State.Endpoints}}<tr><td><code>{{.id}}</code></td><td>{{.url}}</td><td>{{range .enabled_events}}{{.}} {{end}}</td><td><code>{{.secret}}</code></td></tr>{{else}}<tr><td colspan="4">まだありません。</td></tr>{{end}}</table>

<h2>Webhook 配信</h2>
<table><tr><th>#</th><th>イベント</th><th>宛先</th><th>試行(実時刻 → 応答)</th><th>結果</th></tr>
{{range .Deliveries}}<tr><td>{{.ID}}</td><td>{{.Event}}<br><code>{{.EventID}}</code></td><td>{{.URL}}</td>
<td>{{range .Attempts}}{{(.At.In $.JST).Format "01-02 15:04:05"}} → {{if .Status}}{{.Status}}{{else}}{{.Err}}{{end}}<br>{{end}}</td>
<td>{{if .Dropped}}破棄(障害注入){{else if .Delivered}}配信済み{{if .Duplicate}}(重複){{end}}{{else if .Done}}断念{{else}}再試行待ち{{if not .NextAttempt.IsZero}}(次回 {{(.NextAttempt.In $.JST).Format "01-02 15:04:05"}}){{end}}{{end}}</td></tr>{{else}}<tr><td colspan="5">まだありません。</td></tr>{{end}}</table>
</body></html>`))

func (s *Server) uiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.uiHome)
	mux.HandleFunc("POST /_ui/clock", s.uiAction(func(r *http.Request) (string, error) {
		d, err := time.ParseDuration(r.FormValue("advance"))
		if err != nil {
			return "", fmt.Errorf("時間の形式が正しくありません(例: 1h30m): %q", r.FormValue("advance"))
		}
		if err := s.Advance(d); err != nil {
			return "", err
		}
		return "時計を " + d.String() + " 進めました。", nil
	}))
	mux.HandleFunc("POST /_ui/payment_intents/{id}/pay", s.uiAction(func(r *http.Request) (string, error) {
		return "入金しました。", s.PayVoucher(r.PathValue("id"), r.FormValue("store"))
	}))
	mux.HandleFunc("POST /_ui/payment_intents/{id}/lapse", s.uiAction(func(r *http.Request) (string, error) {
		return "期限切れにしました。", s.LapseVoucher(r.PathValue("id"))
	}))
	mux.HandleFunc("POST /_ui/refunds/{id}/succeed", s.uiAction(func(r *http.Request) (string, error) {
		return "返金を成功させました。", s.SettleRefund(r.PathValue("id"), true, "")
	}))
	mux.HandleFunc("POST /_ui/refunds/{id}/fail", s.uiAction(func(r *http.Request) (string, error) {
		return "返金を失敗させました。", s.SettleRefund(r.PathValue("id"), false, "declined")
	}))
	mux.HandleFunc("GET /c/pay/{id}", func(w http.ResponseWriter, r *http.Request) { s.checkoutPage(w, r, "") })
	mux.HandleFunc("POST /c/pay/{id}", s.checkoutPay)
	mux.HandleFunc("GET /c/3ds/{id}", s.threeDSPage)
	mux.HandleFunc("POST /c/3ds/{id}", s.threeDSConfirm)
	mux.HandleFunc("GET /c/voucher/{id}", s.voucherPage)
	mux.HandleFunc("GET /c/transfer/{id}", s.voucherPage)
	mux.HandleFunc("GET /c/done", func(w http.ResponseWriter, r *http.Request) {
		render(w, http.StatusOK, donePage, map[string]any{"Title": "お支払い完了"})
	})
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) uiHome(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, uiPage, map[string]any{"Title": "Stripe シミュレーター", "State": s.State(),
		"Deliveries": s.Deliveries(), "Msg": r.URL.Query().Get("msg"), "JST": jst})
}

func (s *Server) uiAction(do func(*http.Request) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		msg, err := do(r)
		if err != nil {
			msg = "できませんでした: " + strings.TrimPrefix(err.Error(), "stripesim: ")
		}
		http.Redirect(w, r, "/?msg="+url.QueryEscape(msg), http.StatusSeeOther)
	}
}

// sessionView is a session and what its page shows.
type sessionView struct {
	Title                   string
	Session                 Session
	Items                   []LineItem
	Total                   int64
	Card, Konbini, Transfer bool
	Err                     string
}

func (s *Server) sessionView(id string) (sessionView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	cs := s.st.Sessions[id]
	if cs == nil {
		return sessionView{}, false
	}
	v := sessionView{Title: "お支払い", Session: *cs, Items: cs.LineItems, Total: cs.amountTotal()}
	for _, t := range cs.PaymentMethodTypes {
		switch t {
		case "card":
			v.Card = true
		case "konbini":
			v.Konbini = true
		case "customer_balance":
			v.Transfer = true
		}
	}
	return v, true
}

func (s *Server) checkoutPage(w http.ResponseWriter, r *http.Request, errMsg string) {
	v, ok := s.sessionView(r.PathValue("id"))
	if !ok {
		http.Error(w, "このお支払いページは存在しません。", http.StatusNotFound)
		return
	}
	v.Err = errMsg
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusPaymentRequired
	}
	render(w, status, checkoutPage, v)
}

// successURL is where the buyer goes when done: the session's success_url
// with {CHECKOUT_SESSION_ID} filled, or the simulator's own page.
func successURL(cs Session) string {
	if cs.SuccessURL == "" {
		return "/c/done"
	}
	return strings.ReplaceAll(cs.SuccessURL, "{CHECKOUT_SESSION_ID}", cs.ID)
}

func (s *Server) checkoutPay(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, ok := s.sessionView(id)
	if !ok {
		http.Error(w, "このお支払いページは存在しません。", http.StatusNotFound)
		return
	}
	email := strings.TrimSpace(r.FormValue("email"))
	var err error
	switch r.FormValue("method") {
	case "card":
		err = s.PayCard(id, r.FormValue("card"), email)
		switch {
		case err == nil:
			http.Redirect(w, r, successURL(v.Session), http.StatusSeeOther)
			return
		case errors.Is(err, ErrNeedsThreeDS):
			http.Redirect(w, r, "/c/3ds/"+id, http.StatusSeeOther)
			return
		case errors.Is(err, ErrDeclined):
			s.checkoutPage(w, r, "カードが拒否されました。別のカードでお試しください。")
			return
		}
	case "konbini":
		if _, err = s.PayKonbini(id, email); err == nil {
			http.Redirect(w, r, "/c/voucher/"+s.intentOf(id), http.StatusSeeOther)
			return
		}
	case "customer_balance":
		if _, err = s.PayBankTransfer(id, email); err == nil {
			http.Redirect(w, r, "/c/transfer/"+s.intentOf(id), http.StatusSeeOther)
			return
		}
	default:
		err = errors.New("お支払い方法を選んでください。")
	}
	msg := strings.TrimPrefix(err.Error(), "stripesim: ")
	if errors.Is(err, ErrSessionNotOpen) {
		msg = "このお支払いページはもう使えません。"
	}
	s.checkoutPage(w, r, msg)
}

func (s *Server) intentOf(sessionID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.st.Sessions[sessionID]; cs != nil {
		return cs.PaymentIntent
	}
	return ""
}

func (s *Server) threeDSPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.sessionView(r.PathValue("id"))
	if !ok {
		http.Error(w, "このお支払いページは存在しません。", http.StatusNotFound)
		return
	}
	v.Title = "3D セキュア認証"
	render(w, http.StatusOK, threeDSPage, v)
}

func (s *Server) threeDSConfirm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, ok := s.sessionView(id)
	if !ok {
		http.Error(w, "このお支払いページは存在しません。", http.StatusNotFound)
		return
	}
	err := s.ConfirmThreeDSecure(id, r.FormValue("ok") == "true")
	switch {
	case err == nil:
		http.Redirect(w, r, successURL(v.Session), http.StatusSeeOther)
	case errors.Is(err, ErrDeclined):
		s.checkoutPage(w, r, "3D セキュア認証に失敗しました。もう一度お試しください。")
	default:
		s.checkoutPage(w, r, strings.TrimPrefix(err.Error(), "stripesim: "))
	}
}

func (s *Server) voucherPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tickLocked()
	pi := s.st.Intents[r.PathValue("id")]
	if pi == nil || (pi.Konbini == nil && pi.Transfer == nil) {
		s.mu.Unlock()
		http.Error(w, "このお支払い情報は存在しません。", http.StatusNotFound)
		return
	}
	data := map[string]any{"Title": "お支払い情報", "Intent": *pi, "Voucher": pi.Konbini, "Transfer": pi.Transfer}
	if cs := s.st.Sessions[pi.Session]; cs != nil && cs.SuccessURL != "" {
		data["Next"] = successURL(*cs)
	}
	s.mu.Unlock()
	render(w, http.StatusOK, voucherPage, data)
}
