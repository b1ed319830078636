// Math in titles and abstracts (KaTeX, served by this site) and a figure viewer.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  if (window.renderMathInElement) {
    document.querySelectorAll(".math").forEach(function (element) {
      window.renderMathInElement(element, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: false,
        trust: false,
      });
    });
  }

  var dialog = null;
  function openFigure(link) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "lightbox";
      dialog.innerHTML = '<img alt=""><p></p><form method="dialog"><button type="submit">×</button></form>';
      dialog.addEventListener("click", function (event) {
        if (event.target === dialog) dialog.close();
      });
      document.body.appendChild(dialog);
    }
    var image = dialog.querySelector("img");
    image.src = link.href;
    image.alt = link.dataset.caption || "";
    dialog.querySelector("p").textContent = link.dataset.caption || "";
    dialog.showModal();
  }
  document.querySelectorAll("a.figure-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (typeof HTMLDialogElement === "undefined") return;
      event.preventDefault();
      openFigure(link);
    });
  });

  // One-click copy of a citation: the button names the element whose text it copies.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.dataset.copy);
      var status = button.parentElement.querySelector(".copied");
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (status) status.textContent = button.dataset.done || "Copied.";
      });
    });
  });

  // The subscribe form of a cached page has an empty CSRF token: fetch one (and its cookie) first.
  document.querySelectorAll("form[data-token-url]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[name=csrfmiddlewaretoken]");
      if (input.value) return;
      event.preventDefault();
      fetch(form.dataset.tokenUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { input.value = data.token; })
        .finally(function () { form.submit(); });
    });
  });
});
