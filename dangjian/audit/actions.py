"""Chinese names of the audit trail's actions, for the pages that show the trail. An action with
no name here is shown as its code."""

ACTION_LABELS = {
    "api_token.create": "签发接口令牌",
    "api_token.revoke": "吊销接口令牌",
    "appointment.create": "任职",
    "appointment.end": "免职",
    "audit.search": "查询审计日志",
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.logout": "退出",
    "member.confirm_full": "预备党员转正",
    "member.create": "登记党员",
    "member.export": "导出花名册",
    "member.leave": "离开花名册",
    "member.reveal_id_number": "查看完整身份证号",
    "member.transfer": "组织关系转接",
    "member.update": "修改党员信息",
    "organization.create": "成立党组织",
    "organization.dissolve": "撤销党组织",
    "organization.renew_term": "换届",
    "organization.restructure": "调整党组织",
    "role.grant": "授予角色",
    "role.revoke": "收回角色",
    "roster.import": "导入花名册",
    "unit.create": "添加单位",
    "unit.update": "修改单位",
    "user.create": "创建账号",
    "user.disable": "停用账号",
    "user.enable": "启用账号",
    "workbook.import": "导入工作簿",
}
ACTION_LABELS.update({
    "meeting.record": "记录会议",
    "meeting.update": "修改会议记录",
    "agenda_item.add": "增加议题",
    "contact_point.set": "设置党建联系点",
})
