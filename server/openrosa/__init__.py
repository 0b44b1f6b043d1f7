"""OpenRosa for XForm clients (ODK Collect, KoboCollect, Enketo): per-device form lists, XForms,
manifests whose media are the device's entity lists, and a submission endpoint whose XML
submissions become the same submissions a push carries, through the same merge."""
