// A refused form: move the keyboard to the summary of what to correct, whose links lead
// to each field, so a keyboard or screen reader user starts where the page needs them.
// So too a notice marked data-focus: why a page asks nothing any more.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary, [data-focus]");
  if (summary) { summary.focus(); }
});
