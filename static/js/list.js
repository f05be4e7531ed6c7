// List pages: the filter builder offers the operators of the chosen field; "choose all" ticks every record of the page; a bulk
// action shows only its own inputs.
(function () {
  const builder = document.getElementById("filter-builder");
  if (builder) {
    const field = document.getElementById("filter-field");
    const op = document.getElementById("filter-op");
    const operators = () => {
      const chosen = field.selectedOptions[0];
      op.replaceChildren(
        ...(chosen ? chosen.dataset.operators.split(";") : []).map((pair) => {
          const [key, label] = pair.split("=");
          return new Option(label, key);
        })
      );
    };
    field.addEventListener("change", operators);
  }
  const all = document.getElementById("choose-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("input[name=record]").forEach((box) => (box.checked = all.checked));
    });
  }
  const action = document.getElementById("bulk-action");
  if (action) {
    const show = () =>
      document.querySelectorAll(".bulk-input").forEach((span) => {
        span.hidden = span.dataset.action !== action.value;
      });
    action.addEventListener("change", show);
    show();
  }
})();
