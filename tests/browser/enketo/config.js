// enketo-core's app configuration ('enketo/config'), for the test: its defaults but the maps.
// The default layers are OpenStreetMap's tiles and Google's (which loads Google's script); the
// test runs offline, so the geopoint widget's one layer asks the harness, which has no tiles
// (the map shows blank, the widget still works by its coordinate inputs).
import defaults from 'enketo-core/config';

export default {
    ...defaults,
    maps: [
        {
            name: 'streets',
            tiles: [`${window.location.origin}/enketo-harness/tiles/{z}/{x}/{y}.png`],
            attribution: 'no tiles (test)',
        },
    ],
};
