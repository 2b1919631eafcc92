// The 日程グループ form works without this script: the server disables 登録
// for the Basic host it rendered the form with, and refuses 登録 for a Basic
// host on saving. This only follows the host chosen afterwards.
document.addEventListener("DOMContentLoaded", () => {
  const host = document.getElementById("zoom-host");
  const reg = document.getElementById("zoom-registration");
  if (!host || !reg) return;
  const mails = document.getElementById("zoom-registrant-emails");
  const basicNote = document.getElementById("zoom-registration-basic");
  const licensedNote = document.getElementById("zoom-registration-licensed");
  host.addEventListener("change", () => {
    const opt = host.selectedOptions[0];
    const basic = !!opt && opt.dataset.licensed !== "1";
    reg.disabled = basic;
    if (mails) mails.disabled = basic;
    if (basicNote) basicNote.hidden = !basic;
    if (licensedNote) licensedNote.hidden = basic;
  });
});
