// The 日程グループ form works without this script: the server renders 登録
// as it may be changed with the host the form was rendered with, and decides
// again on saving (event.EditZoomSettings). This only follows the host chosen
// afterwards, by the same rule: 登録 may be changed when the host can have it
// (data-no-registration is empty) or when it is on (to turn it off);
// otherwise it is disabled, showing what is kept (off), with the reason.
document.addEventListener("DOMContentLoaded", () => {
  const host = document.getElementById("zoom-host");
  const reg = document.getElementById("zoom-registration");
  if (!host || !reg) return;
  const mails = document.getElementById("zoom-registrant-emails");
  const notes = document.querySelectorAll("p[data-no-registration]");
  const storedOn = reg.dataset.stored === "1";
  host.addEventListener("change", () => {
    const opt = host.selectedOptions[0];
    const why = opt ? opt.dataset.noRegistration || "" : "not_linked";
    const offered = why === "" || storedOn;
    for (const box of [reg, mails]) {
      if (!box) continue;
      box.disabled = !offered;
      if (!offered) box.checked = false;
    }
    for (const note of notes) note.hidden = note.dataset.noRegistration !== why;
  });
});
