// Each role's menu, in one place: what a role sees here is what its API scope lets it do; the
// server refuses the rest anyway (server/accounts/scope.py decides, not this list).
export const MENU = [
  { name: "home", title: "工作概览", roles: ["city", "town_supervisor", "team_leader", "school"] },
  { name: "map", title: "地图", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "cases", title: "个案办理", roles: ["city", "town_supervisor", "team_leader", "school"] },
  { name: "visits", title: "走访清单", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "conflicts", title: "冲突审核", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "duplicates", title: "疑似重复", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "reports", title: "统计报表", roles: ["city", "town_supervisor", "team_leader", "school"] },
  { name: "accounted", title: "底数核查", roles: ["city", "town_supervisor", "team_leader"] },
  { name: "imports", title: "数据导入", roles: ["city", "town_supervisor"] },
  { name: "people", title: "人员与工作组", roles: ["city", "town_supervisor"] },
  { name: "tablets", title: "平板管理", roles: ["city", "town_supervisor", "team_leader"] },
];

export function menuFor(role) {
  return MENU.filter((item) => item.roles.includes(role));
}
