// Each role's menu, in one place: what a role sees here is what its API scope lets it do; the
// server refuses the rest anyway (server/accounts/scope.py decides, not this list).
export const MENU = [
  { name: "home", title: "工作概览", roles: ["city", "town_supervisor", "team_leader", "school"] },
  { name: "reports", title: "统计报表", roles: ["city", "town_supervisor", "team_leader", "school"] },
  { name: "accounted", title: "底数核查", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "imports", title: "数据导入", roles: ["city", "town_supervisor"] },
];

export function menuFor(role) {
  return MENU.filter((item) => item.roles.includes(role));
}
