// The page side of the Enketo test: Enketo transforms an XForm in the page (enketo-transformer's
// web build), enketo-core renders and runs it, and the submit button does what an OpenRosa
// client does with the record: validate, take the instance XML, POST it as multipart
// `xml_submission_file`. Bundled by build.mjs; the test drives it through window.enketoHarness.
import { Form } from 'enketo-core';
import { transform } from 'enketo-transformer/web';

const state = { form: null, submissionUrl: null };

/**
 * The external secondary instances the model declares (<instance id src="jr://file-csv/x.csv">),
 * each given the XML document made from the media file of that name, as Enketo Express does.
 *
 * @param {string} modelStr - the model from the transformer
 * @param {Record<string, string>} media - file name -> XML text of its instance
 */
function externalInstances(modelStr, media) {
    const model = new DOMParser().parseFromString(modelStr, 'text/xml');
    return Array.from(model.querySelectorAll('instance[src]')).map((instance) => {
        const src = instance.getAttribute('src');
        const name = src.slice(src.lastIndexOf('/') + 1);
        const text = media[name];
        return {
            id: instance.getAttribute('id'),
            src,
            xml: text == null ? null : new DOMParser().parseFromString(text, 'text/xml'),
        };
    });
}

async function render(xform, media = {}, submissionUrl = null) {
    const survey = await transform({ xform });
    const container = document.getElementById('form-container');
    container.replaceChildren(document.createRange().createContextualFragment(survey.form));
    const formEl = container.querySelector('form.or');
    const external = externalInstances(survey.model, media);
    state.form = new Form(formEl, { modelStr: survey.model, external }, {});
    state.submissionUrl = submissionUrl;
    const loadErrors = state.form.init();
    document.body.dataset.rendered = '1';
    return {
        loadErrors,
        transformerVersion: survey.transformerVersion,
        external: external.map(({ id, src, xml }) => ({ id, src, supplied: xml != null })),
    };
}

async function submit() {
    const result = { valid: await state.form.validate() };
    if (result.valid) {
        // Non-relevant questions are left out, as Enketo Express submits them.
        result.xml = state.form.getDataStr({ irrelevant: false });
        result.instanceID = state.form.instanceID;
        if (state.submissionUrl) {
            const body = new FormData();
            body.append('xml_submission_file', new Blob([result.xml], { type: 'text/xml' }), 'submission.xml');
            const response = await fetch(state.submissionUrl, {
                method: 'POST',
                body,
                headers: { 'X-OpenRosa-Version': '1.0' },
            });
            result.status = response.status;
            result.response = await response.text();
        }
    }
    return result;
}

document.addEventListener('DOMContentLoaded', () => {
    const button = document.getElementById('submit-form');
    button.addEventListener('click', async () => {
        button.disabled = true;
        delete document.body.dataset.submitted;
        try {
            window.enketoHarness.lastSubmit = await submit();
        } catch (error) {
            window.enketoHarness.lastSubmit = { error: String(error && error.stack || error) };
        }
        document.body.dataset.submitted = '1';
        button.disabled = false;
    });
});

window.enketoHarness = { render, submit, lastSubmit: null };
