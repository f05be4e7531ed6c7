// Record forms: when a value changes, ask the server for the form's sections again (their
// visible_if / required_if follow the values being typed) and swap them in. The swap never
// loses what the user did meanwhile: every value is carried over, the focus stays, an older
// answer than the last question is dropped, and nothing is swapped once the form is sent.
// File inputs are never sent with the question (the file would be uploaded on every change)
// and are moved into the new sections as they are, with the file the user chose.
(function () {
  const form = document.getElementById("record-form");
  if (!form) return;
  const target = document.getElementById("form-sections");
  let pending = null;
  let asked = 0;
  let sent = false;

  function current() {
    // name -> value for every input of the sections, and the lookups' titles by name
    const values = new Map();
    const titles = new Map();
    const files = new Map();
    target.querySelectorAll("input[name], select[name], textarea[name]").forEach((input) => {
      if (input.type === "file") files.set(input.name, input);
      else if (input.type === "checkbox") values.set(input.name, input.checked);
      else values.set(input.name, input.value);
    });
    target.querySelectorAll(".lookup").forEach((lookup) => {
      const hidden = lookup.querySelector("input[type=hidden]");
      const text = lookup.querySelector("input[role=combobox]");
      if (hidden && text) titles.set(hidden.name, text.value);
    });
    return { values, titles, files };
  }

  function carryOver({ values, titles, files }) {
    target.querySelectorAll("input[name], select[name], textarea[name]").forEach((input) => {
      if (input.type === "file") {
        const chosen = files.get(input.name);
        if (chosen && chosen.files.length) input.replaceWith(chosen);
        return;
      }
      if (!values.has(input.name)) return;
      const value = values.get(input.name);
      if (input.type === "checkbox") {
        input.checked = value;
      } else if (input.tagName === "SELECT" && value !== "" && input.dataset.lookup) {
        if (![...input.options].some((option) => option.value === value)) {
          input.add(new Option(titles.get(input.name) || value, value));
        }
        input.value = value;
      } else {
        input.value = value;
      }
    });
  }

  async function refresh() {
    const mine = ++asked;
    const body = new FormData(form);
    form.querySelectorAll("input[type=file][name]").forEach((input) => body.delete(input.name));
    const response = await fetch(form.dataset.preview, {
      method: "POST",
      body,
      headers: { "X-Requested-With": "fetch" },
    });
    if (!response.ok || mine !== asked || sent) return;
    const html = await response.text();
    if (mine !== asked || sent) return;
    const active = document.activeElement;
    const focused = active && target.contains(active) ? active.id : null;
    const typed = focused ? active.value : null; // before the swap blurs it
    const kept = current();
    target.innerHTML = html;
    carryOver(kept);
    if (window.enhanceLookups) window.enhanceLookups(target);
    const again = focused && document.getElementById(focused);
    if (again) {
      if (again.value !== typed && again.type !== "checkbox" && again.type !== "file") {
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
  form.addEventListener("submit", () => {
    sent = true;
    clearTimeout(pending);
  });
})();
