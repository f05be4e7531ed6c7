// Kanban: dropping a card on a lane submits its "move to" form with that lane's value; the
// server moves the record through the records service (rules and state machines apply).
(function () {
  let dragged = null;
  document.querySelectorAll(".kcard").forEach((card) => {
    card.addEventListener("dragstart", () => { dragged = card; });
  });
  document.querySelectorAll(".lane").forEach((lane) => {
    lane.addEventListener("dragover", (event) => event.preventDefault());
    lane.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!dragged) return;
      const form = dragged.querySelector("form.move");
      form.querySelector("select").value = lane.dataset.value;
      form.submit();
    });
  });
})();
