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
    const html = await response.text();
    // What the user typed while the server answered is kept, and where they were.
    const active = document.activeElement;
    const typing = active && active.id && active.type !== "checkbox" ? active : null;
    const typed = typing ? typing.value : null; // before the swap blurs it
    target.innerHTML = html;
    if (window.enhanceLookups) window.enhanceLookups(target);
    const again = document.getElementById((typing && typing.id) || focused);
    if (again) {
      if (typing && again.value !== typed) {
        again.value = typed;
        if (again.getAttribute("role") === "combobox") again.dispatchEvent(new Event("input"));
      }
      again.focus();
    }
  }
  form.addEventListener("change", () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  });
})();
