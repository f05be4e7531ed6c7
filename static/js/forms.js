// Record forms: when a value changes, ask the server for the form's sections again (their
// visible_if / required_if follow the values being typed) and swap them in, keeping focus.
(function () {
  const form = document.getElementById("record-form");
  if (!form) return;
  const target = document.getElementById("form-sections");
  let pending = null;
  async function refresh() {
    const focused = document.activeElement && document.activeElement.id;
    const response = await fetch(form.dataset.preview, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
    });
    if (!response.ok) return;
    target.innerHTML = await response.text();
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }
  form.addEventListener("change", () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  });
})();
