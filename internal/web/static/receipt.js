// 「印刷 / PDFで保存」 opens the browser's print dialog. Without script the
// button stays hidden and the page says to use the browser's own print
// command; the receipt is the same.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-receipt");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
