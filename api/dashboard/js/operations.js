// Bulk camera import with progress: the upload's bytes as they go, then the server's check
// of every row, then the cameras on the map. A rejected file lists each bad row.

import { upload } from "./api.js";
import { $, el, formatBytes, setProgress } from "./ui.js";

// FastAPI's 422 detail for the import: loc is ["file", row, field...].
function rowErrors(detail) {
  if (!Array.isArray(detail)) return [];
  return detail.map((e) => {
    const [, row, ...field] = e.loc || [];
    return `row ${row}${field.length ? ` (${field.join(".")})` : ""}: ${e.msg}`;
  });
}

export function initOperations({ refreshCameras }) {
  const form = $("#import-form");
  const bar = $("#import-progress");
  const state = $("#import-state");
  const errors = $("#import-errors");

  function progress(file, sent, total) {
    if (total && sent >= total) {
      // Every byte is out; the server is checking rows, for which it reports no progress.
      setProgress(bar, 0, 0);
      state.textContent = `checking ${file.name} on the server…`;
    } else {
      setProgress(bar, sent, total);
      state.textContent = `uploading ${file.name}… ${formatBytes(sent)}`;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.file.files[0];
    const dryRun = form.dry_run.checked;
    const data = new FormData();
    data.append("file", file);
    errors.replaceChildren();
    progress(file, 0, file.size);
    try {
      const params = dryRun ? { dry_run: true } : {};
      const result = await upload("/cameras/import", params, data, (sent, total) =>
        progress(file, sent, total),
      );
      if (dryRun) {
        state.textContent = `${file.name} is valid; nothing imported`;
      } else {
        state.textContent = `imported ${result.imported} cameras`;
        form.reset();
        await refreshCameras();
      }
    } catch (error) {
      const rows = rowErrors(error.detail);
      state.textContent = rows.length
        ? `import refused: ${rows.length} bad row${rows.length === 1 ? "" : "s"}, nothing imported`
        : `import refused: ${error.message}`;
      errors.replaceChildren(...rows.map((text) => el("li", {}, text)));
    } finally {
      bar.hidden = true;
    }
  });
}
