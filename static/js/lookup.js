// Lookup fields: the server draws a <select> of the first target records (usable without
// JavaScript); here it becomes a type-ahead combobox searching every record the user may read
// (WAI-ARIA combobox pattern: arrows move, Enter picks, Escape closes).
(function () {
  let serial = 0;

  function enhance(select) {
    const id = select.id;
    const listId = `${id}-options`;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = select.name;
    hidden.value = select.value;
    const input = document.createElement("input");
    input.type = "text";
    input.id = id;
    input.autocomplete = "off";
    input.className = "lookup-input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    for (const name of ["aria-required", "aria-invalid", "aria-describedby"]) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    }
    const chosen = select.selectedOptions[0];
    input.value = select.value && chosen ? chosen.textContent : "";
    const list = document.createElement("ul");
    list.id = listId;
    list.className = "lookup-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const wrapper = document.createElement("span");
    wrapper.className = "lookup";
    wrapper.append(input, hidden, list);
    select.replaceWith(wrapper);

    let title = input.value;
    let active = -1;
    let pending = null;
    let asked = 0;

    function options() {
      return Array.from(list.querySelectorAll("[role=option]"));
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      const all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }
    function pick(option) {
      hidden.value = option.dataset.id;
      input.value = title = option.textContent;
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    async function search() {
      const mine = ++asked;
      const response = await fetch(
        `${select.dataset.lookup}?q=${encodeURIComponent(input.value.trim())}`,
        { headers: { Accept: "application/json" } }
      );
      if (!response.ok || mine !== asked) return;
      const { results } = await response.json();
      list.replaceChildren(
        ...results.map((result) => {
          const option = document.createElement("li");
          option.id = `lookup-${++serial}`;
          option.setAttribute("role", "option");
          option.dataset.id = result.id;
          option.textContent = result.title;
          option.addEventListener("mousedown", (event) => {
            event.preventDefault(); // keep the focus in the input
            pick(option);
          });
          return option;
        })
      );
      if (!results.length) {
        const empty = document.createElement("li");
        empty.className = "lookup-empty";
        empty.textContent = list.closest("form").dataset.noMatches || "—";
        list.append(empty);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }
    input.addEventListener("input", () => {
      if (!input.value.trim() && hidden.value) {
        hidden.value = "";
        title = "";
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      clearTimeout(pending);
      pending = setTimeout(search, 200);
    });
    input.addEventListener("focus", () => {
      if (!input.value) search();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          search();
          return;
        }
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        pick(options()[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => {
      close();
      input.value = title; // typed text that picked nothing is not a value
    });
    input.addEventListener("change", (event) => event.stopPropagation());
  }

  window.enhanceLookups = function (root) {
    root.querySelectorAll("select[data-lookup]").forEach(enhance);
  };
  window.enhanceLookups(document);
})();
