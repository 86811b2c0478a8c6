// Dryad Registry: small enhancements on top of pages that work without
// this script: copy buttons, sort menus that apply at once, and the upload
// page's drag and drop, checks before sending and progress bar.
(function () {
  'use strict';

  // Copy buttons: data-copy names the element whose text (or value) is copied.
  function initCopy() {
    document.querySelectorAll('button[data-copy]').forEach(function (btn) {
      var target = document.getElementById(btn.getAttribute('data-copy'));
      if (!target) return;
      btn.hidden = false;
      var label = btn.querySelector('.copy-label');
      btn.addEventListener('click', function () {
        var text = 'value' in target ? target.value : target.textContent;
        copyText(text, target).then(function () {
          btn.classList.add('copied');
          if (label) label.textContent = 'Copied';
          btn.setAttribute('aria-label', 'Copied');
          setTimeout(function () {
            btn.classList.remove('copied');
            if (label) label.textContent = 'Copy';
            btn.setAttribute('aria-label', 'Copy to clipboard');
          }, 1800);
        }, function () {
          selectText(target);
          if (label) label.textContent = 'Press Ctrl+C';
        });
      });
    });
  }

  function copyText(text, target) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      selectText(target);
      try {
        if (document.execCommand('copy')) resolve(); else reject(new Error('copy refused'));
      } catch (e) { reject(e); }
    });
  }

  function selectText(el) {
    if (typeof el.select === 'function') { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // Menus marked data-autosubmit submit their form when changed; the
  // submit button they make redundant is hidden.
  function initAutosubmit() {
    document.querySelectorAll('select[data-autosubmit]').forEach(function (sel) {
      sel.addEventListener('change', function () { sel.form.submit(); });
      var btn = sel.form.querySelector('[data-autosubmit-button]');
      if (btn && sel.form.querySelector('input[type="search"]') === null) btn.hidden = true;
    });
  }

  // "/" focuses the page's search box (its own, else the header's), as on
  // most code sites, unless the visitor is typing in a field already.
  function initSearchShortcut() {
    document.addEventListener('keydown', function (e) {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      var t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      var box = document.querySelector('#q, #search-q, #site_q');
      if (!box) return;
      e.preventDefault();
      box.focus();
      box.select();
    });
  }

  // Relative dates (<time data-ago>) are written by the server when it
  // renders the page; a page left open, or shown again from the browser's
  // history, would keep saying "just now". They are rewritten from the
  // real clock now, every minute, and when the page is shown again. The
  // rule is ago's in format.go.
  var months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function ago(t, now) {
    var s = (now - t) / 1000;
    function n(v, one, many) { v = Math.floor(v); return v + ' ' + (v === 1 ? one : many) + ' ago'; }
    if (s < -60 || s >= 365 * 86400) {
      var d = new Date(t);
      return months[d.getUTCMonth()] + ' ' + d.getUTCDate() + ', ' + d.getUTCFullYear();
    }
    if (s < 60) return 'just now';
    if (s < 3600) return n(s / 60, 'minute', 'minutes');
    if (s < 86400) return n(s / 3600, 'hour', 'hours');
    if (s < 30 * 86400) return n(s / 86400, 'day', 'days');
    return n(s / (30 * 86400), 'month', 'months');
  }

  function refreshDates() {
    var now = Date.now();
    document.querySelectorAll('time[data-ago]').forEach(function (el) {
      var t = Date.parse(el.getAttribute('datetime'));
      if (!isNaN(t)) el.textContent = ago(t, now);
    });
  }

  function initDates() {
    refreshDates();
    setInterval(refreshDates, 60000);
    window.addEventListener('pageshow', refreshDates);
  }

  function formatBytes(n) {
    if (n < 1024) return n + ' B';
    var units = ['KB', 'MB', 'GB'];
    var i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return (Math.round(n * 10) / 10) + ' ' + units[i];
  }

  // The upload form: a file dropped or picked is checked here first (type
  // and size), then sent with XMLHttpRequest so that its upload events
  // drive a real progress bar; the server's answer decides what follows.
  function initUpload(form) {
    var input = form.querySelector('input[type="file"]');
    var zone = document.getElementById('dropzone');
    var fileLine = document.getElementById('dropzone-file');
    var box = document.getElementById('upload-progress');
    var bar = document.getElementById('progress');
    var text = document.getElementById('progress-text');
    var errorBox = document.getElementById('upload-error');
    var button = document.getElementById('upload-button');
    var maxSize = parseInt(form.getAttribute('data-max-size'), 10) || 0;
    var csrf = form.querySelector('input[name="csrf"]').value;
    var busy = false;

    function showError(msg) {
      errorBox.textContent = msg;
      errorBox.hidden = false;
    }
    function clearError() {
      errorBox.hidden = true;
      errorBox.textContent = '';
    }

    // check returns what is wrong with the chosen file, or ''.
    function check(file) {
      if (!file) return 'Choose a .tar.gz or .tgz file to upload.';
      var name = file.name.toLowerCase();
      if (!/\.(tar\.gz|tgz)$/.test(name)) {
        return '“' + file.name + '” is not a .tar.gz or .tgz file. Pack the package folder with tar czf.';
      }
      if (maxSize && file.size > maxSize) {
        return '“' + file.name + '” is ' + formatBytes(file.size) + '; the largest accepted is ' + formatBytes(maxSize) + '.';
      }
      if (file.size === 0) return '“' + file.name + '” is empty.';
      return '';
    }

    function chosen() {
      var file = input.files && input.files[0];
      clearError();
      box.hidden = true;
      zone.classList.toggle('has-file', !!file);
      fileLine.textContent = file ? file.name + ' · ' + formatBytes(file.size) : '';
      var problem = file ? check(file) : '';
      if (problem) showError(problem);
    }
    input.addEventListener('change', chosen);

    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
        zone.classList.add('dragover');
      });
    });
    ['dragleave', 'dragend'].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        if (type === 'dragleave' && zone.contains(e.relatedTarget)) return;
        zone.classList.remove('dragover');
      });
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      zone.classList.remove('dragover');
      var files = e.dataTransfer && e.dataTransfer.files;
      if (!files || files.length === 0) return;
      if (files.length > 1) {
        showError('Drop one archive at a time.');
        return;
      }
      try {
        var dt = new DataTransfer();
        dt.items.add(files[0]);
        input.files = dt.files;
      } catch (err) {
        showError('This browser cannot take dropped files; use “choose a file” instead.');
        return;
      }
      chosen();
    });
    // A file dropped beside the zone must not make the browser leave the page.
    window.addEventListener('dragover', function (e) { e.preventDefault(); });
    window.addEventListener('drop', function (e) { e.preventDefault(); });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (busy) return;
      var file = input.files && input.files[0];
      var problem = check(file);
      if (problem) {
        showError(problem);
        input.focus();
        return;
      }
      clearError();
      busy = true;
      button.disabled = true;
      button.textContent = 'Uploading…';
      box.hidden = false;
      bar.max = 100;
      bar.value = 0;
      text.textContent = 'Starting upload of ' + file.name + '…';

      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.upload.addEventListener('progress', function (ev) {
        if (!ev.lengthComputable) return;
        bar.value = Math.min(100, Math.round(ev.loaded / ev.total * 100));
        text.textContent = formatBytes(ev.loaded) + ' of ' + formatBytes(ev.total) + ' sent';
      });
      xhr.upload.addEventListener('load', function () {
        bar.value = 100;
        text.textContent = 'Sent. Checking and publishing the package…';
      });
      xhr.addEventListener('load', function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        if (xhr.status === 201 && body && body.url) {
          bar.value = 100;
          form.setAttribute('data-state', 'done');
          text.textContent = (body.message || 'Published.') + ' Opening its page…';
          window.location.assign(body.url);
          return;
        }
        fail(body && body.message ? body.message : 'The upload failed (HTTP ' + xhr.status + ').');
      });
      xhr.addEventListener('error', function () {
        fail('The connection was lost during the upload. Check your network and try again.');
      });
      xhr.addEventListener('timeout', function () {
        fail('The upload took too long and was stopped.');
      });

      function fail(msg) {
        busy = false;
        button.disabled = false;
        button.textContent = 'Publish';
        box.hidden = true;
        form.setAttribute('data-state', 'failed');
        showError(msg);
      }

      var data = new FormData();
      data.append('csrf', csrf);
      data.append('package', file, file.name);
      xhr.send(data);
    });
  }

  initCopy();
  initAutosubmit();
  initSearchShortcut();
  initDates();
  var upload = document.getElementById('upload-form');
  if (upload) initUpload(upload);
})();
