import { createApp } from "vue";
import App from "./App.vue";
import { makeRouter } from "./router.js";
import { whenLoggedOut } from "./api.js";
import "./styles.css";

const router = makeRouter();
// a token the server no longer accepts (expired, revoked by a password change elsewhere)
whenLoggedOut(() => router.push({ name: "login", query: { expired: "1" } }));
createApp(App).use(router).mount("#app");
