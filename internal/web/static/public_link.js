// 「コピー」 beside the public URL: shown only with script, it copies the
// URL and says so. Without script the read-only field is still selectable.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.querySelector(button.dataset.copy);
    const status = document.getElementById("copy-status");
    if (!input) continue;
    button.hidden = false;
    input.addEventListener("focus", () => input.select());
    button.addEventListener("click", async () => {
      input.select();
      let done = false;
      try {
        await navigator.clipboard.writeText(input.value);
        done = true;
      } catch {
        done = document.execCommand && document.execCommand("copy");
      }
      if (done && status) status.textContent = button.dataset.copied;
    });
  }
});
