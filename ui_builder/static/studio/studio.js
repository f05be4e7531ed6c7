// django-jsonform draws labels beside its inputs without tying them together; tie each label
// to its input so screen readers announce it and a click on the label focuses the input.
(function () {
  let counter = 0;
  function tie(root) {
    root.querySelectorAll(".rjf-form-row-inner > div > label").forEach((label) => {
      if (label.htmlFor) return;
      const input = label.parentElement.querySelector(
        ".rjf-input-group > input, .rjf-input-group > select, .rjf-input-group > textarea"
      );
      if (!input) return;
      if (!input.id) input.id = `rjf-input-${++counter}`;
      label.htmlFor = input.id;
    });
  }
  function watch() {
    document.querySelectorAll("[data-django-jsonform-container]").forEach((container) => {
      tie(container);
      new MutationObserver(() => tie(container)).observe(container, {
        childList: true,
        subtree: true,
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
