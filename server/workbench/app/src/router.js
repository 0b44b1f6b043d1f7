import { createRouter, createWebHistory } from "vue-router";
import { session } from "./session.js";
import { MENU } from "./menu.js";
import LoginView from "./views/LoginView.vue";
import HomeView from "./views/HomeView.vue";
import PasswordView from "./views/PasswordView.vue";
import NotFoundView from "./views/NotFoundView.vue";
import VisitListsView from "./views/VisitListsView.vue";
import PeopleView from "./views/PeopleView.vue";
import TabletsView from "./views/TabletsView.vue";
import MapView from "./views/MapView.vue";
import CasesView from "./views/CasesView.vue";
import CaseView from "./views/CaseView.vue";
import ConflictsView from "./views/ConflictsView.vue";
import DuplicatesView from "./views/DuplicatesView.vue";
import ReportsView from "./views/ReportsView.vue";
import AccountedView from "./views/AccountedView.vue";
import ImportsView from "./views/ImportsView.vue";

// Every route but the login names the roles it is for (a route absent from a role's menu is
// still guarded here, so a typed address does not show an empty page that the API then refuses).
export const routes = [
  { path: "/login", name: "login", component: LoginView, meta: { title: "登录", public: true } },
  { path: "/", name: "home", component: HomeView, meta: { title: "工作概览" } },
  { path: "/visits", name: "visits", component: VisitListsView, meta: { title: "走访清单" } },
  { path: "/map", name: "map", component: MapView, meta: { title: "地图" } },
  { path: "/password", name: "password", component: PasswordView, meta: { title: "修改密码" } },
  { path: "/people", name: "people", component: PeopleView, meta: { title: "人员与工作组" } },
  { path: "/tablets", name: "tablets", component: TabletsView, meta: { title: "平板管理" } },
  { path: "/cases", name: "cases", component: CasesView, meta: { title: "个案办理" } },
  { path: "/cases/:id(\\d+)", name: "case", component: CaseView, meta: { title: "个案", roles: ["city", "town_supervisor", "team_leader", "school"] } },
  { path: "/conflicts", name: "conflicts", component: ConflictsView, meta: { title: "冲突审核" } },
  { path: "/duplicates", name: "duplicates", component: DuplicatesView, meta: { title: "疑似重复" } },
  { path: "/reports", name: "reports", component: ReportsView, meta: { title: "统计报表" } },
  { path: "/accounted", name: "accounted", component: AccountedView, meta: { title: "底数核查" } },
  { path: "/imports", name: "imports", component: ImportsView, meta: { title: "数据导入" } },
  { path: "/:rest(.*)*", name: "not-found", component: NotFoundView, meta: { title: "页面不存在" } },
];

export function makeRouter() {
  const router = createRouter({ history: createWebHistory("/workbench/"), routes });
  router.beforeEach((to) => {
    if (to.meta.public) return true;
    if (!session.token) return { name: "login", query: to.fullPath !== "/" ? { next: to.fullPath } : {} };
    const item = MENU.find((m) => m.name === to.name);
    const roles = to.meta.roles || (item && item.roles);
    if (roles && !roles.includes(session.person.role)) return { name: "home" };
    return true;
  });
  router.afterEach((to) => { document.title = `${to.meta.title || ""} · 一个都不少`; });
  return router;
}
