/* The paper form's tags as chips, with suggestions from the tags already in use.
 *
 * The form still submits taggit's text input (now hidden), rewritten on every change as
 * comma-separated names, quoted where a name holds a space or a comma. The suggestions come from
 * the admin's own JSON list (data-tag-suggest-url); nothing is loaded from elsewhere.
 */
(function () {
  "use strict";

  function parseTags(text) {
    const names = [];
    const pattern = /"([^"]*)"|([^,"]+)/g;
    let match;
    const loose = text.indexOf(",") === -1 && text.indexOf('"') === -1;
    if (loose) {
      return text.split(/\s+/).filter(Boolean);
    }
    while ((match = pattern.exec(text)) !== null) {
      const name = (match[1] !== undefined ? match[1] : match[2]).trim();
      if (name) names.push(name);
    }
    return names;
  }

  function formatTags(names) {
    return names
      .map(function (name) {
        return /[\s,]/.test(name) ? '"' + name + '"' : name;
      })
      .join(", ");
  }

  function setUp(input) {
    const url = input.dataset.tagSuggestUrl;
    let names = parseTags(input.value);
    let options = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    const editor = document.createElement("div");
    editor.className = "tag-editor";
    const chips = document.createElement("ul");
    chips.className = "tag-chips";
    const entry = document.createElement("input");
    entry.type = "text";
    entry.className = "tag-entry";
    entry.autocomplete = "off";
    entry.setAttribute("aria-label", input.getAttribute("aria-label") || "Add a tag");
    entry.setAttribute("role", "combobox");
    entry.setAttribute("aria-expanded", "false");
    const listId = input.id + "-suggestions";
    entry.setAttribute("aria-controls", listId);
    const list = document.createElement("ul");
    list.className = "tag-suggestions";
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.hidden = true;

    const label = document.querySelector('label[for="' + input.id + '"]');
    if (label) label.htmlFor = entry.id = input.id + "-entry";
    input.type = "hidden";
    input.parentNode.insertBefore(editor, input);
    editor.append(chips, entry, list, input);

    function save() {
      input.value = formatTags(names);
      chips.replaceChildren();
      names.forEach(function (name, index) {
        const chip = document.createElement("li");
        chip.className = "tag-chip";
        const text = document.createElement("span");
        text.textContent = name;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.title = "Remove " + name;
        remove.setAttribute("aria-label", remove.title);
        remove.addEventListener("click", function () {
          names.splice(index, 1);
          save();
          entry.focus();
        });
        chip.append(text, remove);
        chips.append(chip);
      });
    }

    function add(name) {
      name = name.replace(/"/g, "").trim();
      const known = names.some(function (n) {
        return n.toLowerCase() === name.toLowerCase();
      });
      if (name && !known) names.push(name);
      entry.value = "";
      close();
      save();
    }

    function close() {
      list.hidden = true;
      entry.setAttribute("aria-expanded", "false");
      options = [];
      active = -1;
    }

    function show(tags) {
      const chosen = names.map(function (n) {
        return n.toLowerCase();
      });
      options = tags.filter(function (tag) {
        return chosen.indexOf(tag.name.toLowerCase()) === -1;
      });
      list.replaceChildren();
      active = -1;
      options.forEach(function (tag, index) {
        const option = document.createElement("li");
        option.setAttribute("role", "option");
        option.id = listId + "-" + index;
        option.textContent = tag.name;
        const count = document.createElement("small");
        count.textContent = " " + tag.papers;
        option.append(count);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the entry
          add(tag.name);
        });
        list.append(option);
      });
      list.hidden = options.length === 0;
      entry.setAttribute("aria-expanded", String(!list.hidden));
    }

    function highlight(index) {
      const items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", String(i === active));
      });
      entry.setAttribute("aria-activedescendant", items[active].id);
    }

    function suggest() {
      const query = entry.value.trim();
      if (!query) {
        close();
        return;
      }
      const ticket = ++asked;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { tags: [] };
        })
        .then(function (data) {
          if (ticket === asked && entry.value.trim()) show(data.tags || []);
        })
        .catch(close);
    }

    entry.addEventListener("input", function () {
      if (entry.value.indexOf(",") !== -1) {
        entry.value.split(",").slice(0, -1).forEach(add);
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    entry.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter adds a tag; it never submits the form
        if (active >= 0 && options[active]) add(options[active].name);
        else add(entry.value);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!list.hidden) {
          event.preventDefault();
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        }
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "Backspace" && !entry.value && names.length) {
        names.pop();
        save();
      }
    });
    entry.addEventListener("blur", function () {
      if (entry.value.trim()) add(entry.value);
      close();
    });
    save();
  }

  function start() {
    document.querySelectorAll("input[data-tag-suggest-url]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
