// The studio's own strings in zh and en. Model titles, field labels and enum labels are not here:
// they come from the catalog ({zh, en} objects in the API), picked with `pick`.

const STRINGS = {
  "nav.studio": { zh: "创作", en: "Studio" },
  "nav.history": { zh: "历史", en: "History" },
  "sign.title": { zh: "登录 aipaint", en: "Sign in to aipaint" },
  "sign.lead": {
    zh: "粘贴 aipaint 令牌。令牌只保存在本浏览器中。",
    en: "Paste your aipaint token. It is kept in this browser only.",
  },
  "sign.token": { zh: "API 令牌", en: "API token" },
  "sign.submit": { zh: "登录", en: "Sign in" },
  "sign.out": { zh: "退出", en: "Sign out" },
  "sign.how": {
    zh: "还没有令牌？在服务器上运行 aipaint token create --name 你的名字",
    en: "No token yet? On the server, run: aipaint token create --name YOUR_NAME",
  },
  "sign.missing": { zh: "请输入令牌。", en: "Enter a token." },
  "sign.wrong": {
    zh: "令牌无效或已被吊销，请检查后重试。",
    en: "This token is not valid or was revoked. Check it and try again.",
  },
  "sign.expired": {
    zh: "登录已失效，请重新输入令牌。",
    en: "Your session ended: the token is no longer accepted. Sign in again.",
  },
  "demo.banner": {
    zh: "演示模式：未配置 RunningHub 密钥，任务由内置的 RunningHub 模拟器完成，结果为示例文件，不产生费用。",
    en: "Demo mode: no RunningHub key is set, so tasks run on the built-in RunningHub simulator. Outputs are sample files and nothing is billed.",
  },
  "picker.title": { zh: "模型", en: "Models" },
  "picker.search": { zh: "搜索模型", en: "Search models" },
  "picker.none": { zh: "没有匹配的模型。", en: "No model matches." },
  "picker.count": { zh: "{n} 个模型", en: "{n} models" },
  "price.unknown": { zh: "价格未知", en: "Price unknown" },
  "price.from": { zh: "起", en: "from" },
  "form.required": { zh: "必填", en: "required" },
  "form.advanced": { zh: "高级参数", en: "Advanced" },
  "form.submit": { zh: "生成", en: "Generate" },
  "form.submitting": { zh: "提交中…", en: "Submitting…" },
  "form.uploading": { zh: "文件上传中…", en: "Uploading files…" },
  "form.reset": { zh: "恢复默认", en: "Reset to defaults" },
  "form.raw": { zh: "参数（JSON）", en: "Params (JSON)" },
  "form.raw_help": {
    zh: "RunningHub 未公布此模型的参数，请直接填写 JSON 对象，由 RunningHub 校验。",
    en: "RunningHub publishes no params for this model: write a JSON object; RunningHub checks it.",
  },
  "form.raw_invalid": { zh: "这不是一个 JSON 对象。", en: "This is not a JSON object." },
  "form.fix": { zh: "请修正标出的字段。", en: "Fix the marked fields." },
  "form.choose": { zh: "请选择…", en: "Choose…" },
  "form.chars": { zh: "{n} / {max} 字", en: "{n} / {max} characters" },
  "form.chars_nomax": { zh: "{n} 字", en: "{n} characters" },
  "form.tags_help": {
    zh: "输入后按回车添加",
    en: "Type and press Enter to add",
  },
  "form.remove": { zh: "移除", en: "Remove" },
  "form.none": { zh: "此模型没有参数。", en: "This model takes no params." },
  "upload.drop": { zh: "拖放文件到这里，或点击选择", en: "Drop a file here, or click to choose" },
  "upload.drop_many": {
    zh: "拖放文件到这里，或点击选择（最多 {n} 个）",
    en: "Drop files here, or click to choose (up to {n})",
  },
  "upload.url": { zh: "或粘贴文件 URL", en: "or paste a file URL" },
  "upload.add_url": { zh: "添加", en: "Add" },
  "upload.formats": { zh: "格式：{f}", en: "Formats: {f}" },
  "upload.max_size": { zh: "单个文件最大 {n} MB", en: "Up to {n} MB per file" },
  "upload.too_big": {
    zh: "{name} 为 {size} MB，超过 {max} MB 的上限。",
    en: "{name} is {size} MB, over the {max} MB limit.",
  },
  "upload.bad_type": {
    zh: "{name} 的格式不被接受，可用：{f}。",
    en: "{name} is not an accepted format. Use: {f}.",
  },
  "upload.too_many": {
    zh: "最多 {n} 个文件。",
    en: "At most {n} files.",
  },
  "upload.failed": { zh: "上传失败：{msg}", en: "Upload failed: {msg}" },
  "upload.uploading": { zh: "上传中…", en: "Uploading…" },
  "estimate.title": { zh: "预估价格", en: "Estimated price" },
  "estimate.wait": { zh: "计算中…", en: "Calculating…" },
  "estimate.incomplete": {
    zh: "填写必填字段后显示价格",
    en: "Fill in the required fields to see the price",
  },
  "estimate.unknown": { zh: "未知", en: "Unknown" },
  "estimate.starting": { zh: "起步价", en: "starting price" },
  "estimate.per": { zh: "单价 {p}", en: "{p} per unit" },
  "estimate.assumed": { zh: "按默认值计算：{names}", en: "Priced at defaults: {names}" },
  "tasks.live": { zh: "任务", en: "Tasks" },
  "tasks.empty": {
    zh: "提交的任务会显示在这里并实时更新。",
    en: "Tasks you submit appear here and update live.",
  },
  "tasks.cancel": { zh: "取消", en: "Cancel" },
  "tasks.again": { zh: "再次运行", en: "Run again" },
  "tasks.elapsed": { zh: "已用 {t}", en: "{t} elapsed" },
  "tasks.eta": { zh: "约需 {t}", en: "usually takes {t}" },
  "tasks.took": { zh: "用时 {t}", en: "took {t}" },
  "tasks.archiving": { zh: "正在归档结果…", en: "Archiving the result…" },
  "tasks.open": { zh: "查看大图", en: "Open full size" },
  "tasks.download": { zh: "下载", en: "Download" },
  "tasks.no_outputs": { zh: "没有输出。", en: "No outputs." },
  "tasks.upstream_code": { zh: "RunningHub 代码 {c}", en: "RunningHub code {c}" },
  "webhooks.title": { zh: "Webhook 投递", en: "Webhook deliveries" },
  "webhooks.none": { zh: "还没有投递。", en: "No deliveries yet." },
  "webhooks.retry": { zh: "重新发送", en: "Send again" },
  "webhooks.no_answer": { zh: "无应答", en: "no answer" },
  "webhooks.status.pending": { zh: "待发送", en: "pending" },
  "webhooks.status.succeeded": { zh: "已送达", en: "delivered" },
  "webhooks.status.failed": { zh: "失败", en: "failed" },
  "webhooks.status.disabled": { zh: "已停用（410）", en: "stopped (410)" },
  "status.pending": { zh: "等待中", en: "pending" },
  "status.queued": { zh: "排队中", en: "queued" },
  "status.running": { zh: "生成中", en: "running" },
  "status.succeeded": { zh: "已完成", en: "succeeded" },
  "status.failed": { zh: "失败", en: "failed" },
  "status.canceled": { zh: "已取消", en: "canceled" },
  "history.title": { zh: "历史与作品", en: "History and gallery" },
  "history.model": { zh: "模型", en: "Model" },
  "history.status": { zh: "状态", en: "Status" },
  "history.all_models": { zh: "全部模型", en: "All models" },
  "history.all_status": { zh: "全部状态", en: "All statuses" },
  "history.more": { zh: "加载更多", en: "Load more" },
  "history.empty": { zh: "没有符合条件的任务。", en: "No task matches." },
  "error.network": {
    zh: "无法连接服务器，请检查网络后重试。",
    en: "The server cannot be reached. Check the connection and try again.",
  },
  "error.generic": { zh: "出错了：{msg}", en: "Something went wrong: {msg}" },
  "viewer.close": { zh: "关闭", en: "Close" },
  "output.video": { zh: "视频", en: "Video" },
  "output.audio": { zh: "音频", en: "Audio" },
  "output.file": { zh: "文件", en: "File" },
  // results
  "results.details": { zh: "详情", en: "Details" },
  "results.select": { zh: "选择“{title}”用于对比", en: "Select {title} to compare" },
  "results.selected": { zh: "已选 {n} 个", en: "{n} selected" },
  "results.compare": { zh: "对比", en: "Compare" },
  "results.compare_hint": { zh: "至少选择两个任务", en: "Select at least two tasks" },
  "results.clear": { zh: "清除选择", en: "Clear" },
  "results.compare_title": { zh: "对比 {n} 个任务", en: "{n} tasks side by side" },
  "results.differs": { zh: "不同", en: "differs" },
  "results.differs_count": { zh: "{n} 个参数不同，已标出。", en: "{n} params differ; they are marked." },
  "results.differs_none": { zh: "参数完全相同。", en: "The params are the same." },
  "results.share": { zh: "复制分享链接", en: "Copy share link" },
  "results.copied": { zh: "链接已复制", en: "Link copied" },
  "results.copy_failed": { zh: "无法复制", en: "Could not copy" },
  "results.cost_recorded": { zh: "RunningHub 记录的实际费用", en: "Charged, as recorded by RunningHub" },
  "results.cost_estimate": { zh: "预估 {p}", en: "est. {p}" },
  "results.cost_estimate_hint": {
    zh: "未记录实际费用：按公开价格预估",
    en: "No charge recorded: estimated from the public price",
  },
  "results.created": { zh: "创建于", en: "Created" },
  "results.submitted": { zh: "提交于", en: "Submitted" },
  "results.finished": { zh: "结束于", en: "Finished" },
  "results.duration": { zh: "运行时长", en: "Run time" },
  "results.cost": { zh: "费用", en: "Cost" },
  "results.cost_none": { zh: "未计费", en: "Not charged" },
  "results.when": { zh: "时间", en: "When" },
  "results.outputs": { zh: "结果", en: "Outputs" },
  "results.params": { zh: "参数", en: "Params" },
  "results.no_webhook": { zh: "此任务没有 Webhook。", en: "This task has no webhook." },
  // picker
  "picker.count_one": { zh: "1 个模型", en: "1 model" },
  "picker.list": { zh: "模型列表", en: "Model list" },
  "picker.all": { zh: "全部", en: "All" },
  "picker.types": { zh: "输出类型", en: "Output type" },
  "picker.categories": { zh: "类别", en: "Category" },
  "picker.type.image": { zh: "图像", en: "Image" },
  "picker.type.video": { zh: "视频", en: "Video" },
  "picker.type.audio": { zh: "音频", en: "Audio" },
  "picker.type.3d": { zh: "3D", en: "3D" },
  "picker.type.text": { zh: "文本", en: "Text" },
  "picker.show_deprecated": { zh: "显示已弃用（{n}）", en: "Show deprecated ({n})" },
  "picker.deprecated_badge": { zh: "已弃用", en: "Deprecated" },
  "picker.favourites": { zh: "收藏", en: "Favourites" },
  "picker.recent": { zh: "最近使用", en: "Recent" },
  "picker.favourite": { zh: "收藏：{title}", en: "Favourite: {title}" },
  // form
  "form.default_choice": { zh: "默认（{v}）", en: "Default ({v})" },
  "form.unset_choice": { zh: "不设置", en: "Not set" },
  "form.default_value": { zh: "默认 {v}", en: "Default: {v}" },
  "form.unset_default": { zh: "不设置时 RunningHub 使用：{v}", en: "Left unset, RunningHub uses: {v}" },
  "form.on": { zh: "开", en: "on" },
  "form.off": { zh: "关", en: "off" },
  "form.example_placeholder": { zh: "例如：{v}", en: "e.g. {v}" },
  "form.use_example": { zh: "使用示例", en: "Use example" },
  "form.clear": { zh: "恢复默认", en: "Use default" },
  "form.advanced_set": { zh: "（已设置 {n} 项）", en: "({n} set)" },
  "form.recent": { zh: "最近的提示词", en: "Recent prompts" },
  "form.not_number": { zh: "请输入数字。", en: "Enter a number." },
  "form.whole": { zh: "请输入整数。", en: "Enter a whole number." },
  "form.range": { zh: "取值范围为 {min} 到 {max}。", en: "Must be between {min} and {max}." },
  "form.min": { zh: "不能小于 {min}。", en: "Must be at least {min}." },
  "form.max": { zh: "不能大于 {max}。", en: "Must be at most {max}." },
  "form.too_long": { zh: "最多 {max} 字，当前 {n} 字。", en: "At most {max} characters; this has {n}." },
  "form.seed_random": { zh: "随机（由 RunningHub 选择）", en: "Random (RunningHub picks)" },
  "form.seed_randomize": { zh: "随机", en: "Randomize" },
  "form.seed_lock": { zh: "锁定", en: "Lock" },
  "form.seed_lock_help": {
    zh: "锁定：每次生成都使用这个种子。未锁定：每次生成后换一个新的随机种子。",
    en: "Locked: every Generate uses this seed. Unlocked: a new random seed after each Generate.",
  },
  "form.submit_n": { zh: "生成 × {n}", en: "Generate × {n}" },
  "form.variations": { zh: "生成数量", en: "Variations" },
  "form.variations_seed": {
    zh: "一次提交 {n} 个任务，各用不同的随机种子。",
    en: "Submits {n} tasks, each with a different random seed.",
  },
  "form.variations_noseed": {
    zh: "此模型没有种子参数：将以相同参数提交 {n} 个任务，差异来自 RunningHub 自身的随机性。",
    en: "This model has no seed: {n} tasks go with the same params; they differ only by RunningHub's own randomness.",
  },
  "form.shortcut": { zh: "Ctrl/⌘ + Enter 提交", en: "Ctrl/⌘ + Enter to generate" },
  "estimate.stand_in": {
    zh: "尚未填写：{names}（按示例计价）",
    en: "Not written yet: {names} (priced with the example)",
  },
  "estimate.times": { zh: "{n} × {p}", en: "{n} × {p}" },
  "code.title": { zh: "复制为代码", en: "Copy as code" },
  "code.copy": { zh: "复制", en: "Copy" },
  "code.copied": { zh: "已复制", en: "Copied" },
  "code.token": {
    zh: "令牌取自环境变量 AIPAINT_TOKEN。",
    en: "The token comes from the AIPAINT_TOKEN environment variable.",
  },
};

const CATEGORY_LABELS = {
  "text-to-image": { zh: "文生图", en: "Text to image" },
  "image-to-image": { zh: "图生图 / 图像编辑", en: "Image to image" },
  "image-upscale": { zh: "图像放大", en: "Image upscale" },
  "image-other": { zh: "其他图像", en: "Other image" },
  "text-to-video": { zh: "文生视频", en: "Text to video" },
  "image-to-video": { zh: "图生视频", en: "Image to video" },
  "start-end-to-video": { zh: "首尾帧视频", en: "Start and end frames to video" },
  "reference-to-video": { zh: "参考生视频", en: "Reference to video" },
  "motion-control": { zh: "动作控制", en: "Motion control" },
  "video-edit": { zh: "视频编辑", en: "Video edit" },
  "video-extend": { zh: "视频延长", en: "Video extend" },
  "video-upscale": { zh: "视频放大", en: "Video upscale" },
  "video-other": { zh: "其他视频", en: "Other video" },
  "text-to-speech": { zh: "语音合成", en: "Text to speech" },
  "voice-clone": { zh: "声音克隆", en: "Voice clone" },
  "music-generation": { zh: "音乐生成", en: "Music generation" },
  "audio-other": { zh: "其他音频", en: "Other audio" },
  "text-to-3d": { zh: "文生 3D", en: "Text to 3D" },
  "image-to-3d": { zh: "图生 3D", en: "Image to 3D" },
  "multi-image-to-3d": { zh: "多图生 3D", en: "Multi-image to 3D" },
  "text-to-text": { zh: "文本生成", en: "Text to text" },
  "image-to-text": { zh: "图像理解", en: "Image to text" },
  "video-to-text": { zh: "视频理解", en: "Video to text" },
  "upload-character": { zh: "角色上传", en: "Character upload" },
  "other": { zh: "其他", en: "Other" },
};

// The order categories appear in the picker: images first, as on RunningHub's console.
export const CATEGORY_ORDER = Object.keys(CATEGORY_LABELS);

const LANG_KEY = "aipaint.lang";
let current = localStorage.getItem(LANG_KEY) || (navigator.language.startsWith("zh") ? "zh" : "en");

export function lang() {
  return current;
}

export function setLang(value) {
  current = value === "zh" ? "zh" : "en";
  localStorage.setItem(LANG_KEY, current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

// The Accept-Language value the API negotiates its messages with.
export function acceptLanguage() {
  return current === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const entry = STRINGS[key];
  if (!entry) throw new Error(`missing UI string ${key}`);
  return entry[current].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// A catalog text: {zh, en} → the current language's, falling back to the other one.
export function pick(text) {
  if (text === null || text === undefined) return "";
  if (typeof text === "string") return text;
  return text[current] || text.en || text.zh || "";
}

export function categoryLabel(slug) {
  return CATEGORY_LABELS[slug] ? pick(CATEGORY_LABELS[slug]) : slug;
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return current === "zh" ? `${s} 秒` : `${s}s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return current === "zh" ? `${m} 分 ${rest} 秒` : `${m}m ${rest}s`;
}

setLang(current);
