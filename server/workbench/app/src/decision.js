// A supervisor's decision on a review item (a conflict, a duplicate pair), sent one way: on
// success the queue reloads and says what was done; when someone else decided first (the API's
// 409 `staleCode`) it reloads and says so; any other refusal stays on the item with its draft.
import { describeError } from "./messages.js";

export async function decide({ key, drafts, staleCode, send, reload, stale, done, unconfirmed }) {
  const draft = drafts[key];
  draft.busy = true;
  draft.error = null;
  try {
    const told = await send();
    delete drafts[key];
    await reload();
    stale.value = null;
    done.value = told;
  } catch (e) {
    if (e.code === staleCode) {
      delete drafts[key];
      await reload();
      done.value = null;
      stale.value = describeError(e.code);
    } else {
      draft.error = e;
      draft.confirming = unconfirmed;
    }
  } finally {
    draft.busy = false;
  }
}
