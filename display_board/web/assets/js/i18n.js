// Residents' pages in the kiosk's languages. Missing keys fall back to English, then Japanese.
export const LANGUAGES = [
  ["ja", "日本語"], ["ja-easy", "やさしい にほんご"], ["en", "English"], ["zh-Hans", "简体中文"],
  ["ko", "한국어"], ["vi", "Tiếng Việt"], ["pt", "Português"],
];

const T = {
  ja: {
    title: "窓口の混雑状況", lang: "言語", waiting: "待ち人数", people: (n) => `${n}人`, wait: "待ち時間の目安",
    minutes: (n) => `約${n}分`, calling: "呼出中の番号", none: "なし", lampLow: "空いています", lampMid: "やや混雑",
    lampHigh: "混雑", lampClosed: "受付終了", openNow: "開庁中", closedNow: "閉庁中", hoursToday: "本日の開庁時間",
    week: "今後1週間", closedDays: "休みの日", typical: "曜日・時間帯ごとの混み具合（過去8週間の平均発券数）",
    typicalNone: "まだ十分なデータがありません", quiet: "空", busy: "混", updated: "更新", offline: "接続が切れています。再接続中…",
    live: "最新の情報を表示しています", procedure: "手続き", lampLegend: (a, b) => `目安: ${a}分未満 空いています・${b}分未満 やや混雑・${b}分以上 混雑`,
    yourNumber: "受付番号", state: "状態", ahead: "あなたの前に", aheadN: (n) => `${n}人`, counterGo: (c) => `${c}番窓口へお越しください`,
    notFound: "この番号は見つかりません（本日分のみ表示できます）", notifyTitle: "通知", notifyWhen: "前の人数がこの人数以下になったら知らせる",
    notifyOn: "通知を受け取る", notifyOff: "通知をやめる", notifyBlocked: "このブラウザでは通知が許可されていません（画面とバイブで知らせます）",
    notifyAhead: (n, num) => `${num}: あなたの前はあと${n}人です`, notifyCalled: (num, c) => `${num}: ${c}番窓口へお越しください`,
    states: { issued: "お待ちください", called: "お呼びしています", serving: "受付中", on_hold: "保留中", done: "完了しました", no_show: "不在（窓口にお申し出ください）", cancelled: "取り消されました" },
    weekdays: ["月", "火", "水", "木", "金", "土", "日"], hour: "時", closed: "閉庁", openData: "オープンデータ", congestionLink: "窓口の混雑状況",
  },
  "ja-easy": {
    title: "まどぐちの こみぐあい", waiting: "まっている ひと", people: (n) => `${n}にん`, wait: "まつ じかん",
    minutes: (n) => `だいたい ${n}ふん`, calling: "よばれている ばんごう", lampLow: "すいています", lampMid: "すこし こんでいます",
    lampHigh: "こんでいます", lampClosed: "おわりました", openNow: "あいています", closedNow: "しまっています",
    yourNumber: "あなたの ばんごう", ahead: "あなたの まえに", aheadN: (n) => `${n}にん`, counterGo: (c) => `${c}ばんの まどぐちへ きてください`,
    states: { issued: "まってください", called: "よんでいます", serving: "てつづきちゅう", on_hold: "まってください", done: "おわりました", no_show: "いませんでした（まどぐちで いってください）", cancelled: "とりけしました" },
  },
  en: {
    title: "Counter congestion", lang: "Language", waiting: "Waiting", people: (n) => `${n}`, wait: "Estimated wait",
    minutes: (n) => `about ${n} min`, calling: "Now calling", none: "none", lampLow: "Not busy", lampMid: "Somewhat busy",
    lampHigh: "Busy", lampClosed: "Reception closed", openNow: "Open now", closedNow: "Closed now", hoursToday: "Today's hours",
    week: "Next 7 days", closedDays: "Closed days", typical: "Typical congestion by weekday and hour (mean tickets, last 8 weeks)",
    typicalNone: "Not enough data yet", quiet: "quiet", busy: "busy", updated: "Updated", offline: "Connection lost. Reconnecting…",
    live: "Showing live information", procedure: "Procedure", lampLegend: (a, b) => `Guide: under ${a} min not busy, under ${b} min somewhat busy, ${b} min or more busy`,
    yourNumber: "Your number", state: "Status", ahead: "People ahead of you", aheadN: (n) => `${n}`, counterGo: (c) => `Please come to counter ${c}`,
    notFound: "This number was not found (only today's numbers are shown)", notifyTitle: "Notification", notifyWhen: "Tell me when this many people or fewer are ahead",
    notifyOn: "Turn on notifications", notifyOff: "Turn off notifications", notifyBlocked: "Notifications are not allowed in this browser (the screen and vibration still tell you)",
    notifyAhead: (n, num) => `${num}: ${n} people ahead of you`, notifyCalled: (num, c) => `${num}: please come to counter ${c}`,
    states: { issued: "Please wait", called: "You are being called", serving: "Being served", on_hold: "On hold", done: "Finished", no_show: "Missed (please tell the counter)", cancelled: "Cancelled" },
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], hour: "h", closed: "Closed", openData: "Open data", congestionLink: "Counter congestion",
  },
  "zh-Hans": {
    title: "窗口拥挤情况", waiting: "等待人数", people: (n) => `${n}人`, wait: "预计等待", minutes: (n) => `约${n}分钟`,
    calling: "正在呼叫", lampLow: "不拥挤", lampMid: "稍拥挤", lampHigh: "拥挤", lampClosed: "受理结束", openNow: "办公中", closedNow: "休息中",
    yourNumber: "您的号码", ahead: "您前面还有", aheadN: (n) => `${n}人`, counterGo: (c) => `请到${c}号窗口`,
    states: { issued: "请稍候", called: "正在呼叫您", serving: "办理中", on_hold: "暂停中", done: "已完成", no_show: "未到（请告知窗口）", cancelled: "已取消" },
  },
  ko: {
    title: "창구 혼잡 상황", waiting: "대기 인원", people: (n) => `${n}명`, wait: "예상 대기 시간", minutes: (n) => `약 ${n}분`,
    calling: "호출 중인 번호", lampLow: "한산함", lampMid: "약간 혼잡", lampHigh: "혼잡", lampClosed: "접수 종료", openNow: "업무 중", closedNow: "업무 종료",
    yourNumber: "접수 번호", ahead: "앞 대기 인원", aheadN: (n) => `${n}명`, counterGo: (c) => `${c}번 창구로 와 주십시오`,
    states: { issued: "기다려 주십시오", called: "호출 중입니다", serving: "처리 중", on_hold: "보류 중", done: "완료", no_show: "부재 (창구에 말씀해 주십시오)", cancelled: "취소됨" },
  },
  vi: {
    title: "Tình trạng đông đúc tại quầy", waiting: "Số người chờ", people: (n) => `${n} người`, wait: "Thời gian chờ dự kiến", minutes: (n) => `khoảng ${n} phút`,
    calling: "Đang gọi", lampLow: "Vắng", lampMid: "Hơi đông", lampHigh: "Đông", lampClosed: "Đã hết giờ tiếp nhận", openNow: "Đang mở cửa", closedNow: "Đã đóng cửa",
    yourNumber: "Số của bạn", ahead: "Số người trước bạn", aheadN: (n) => `${n} người`, counterGo: (c) => `Vui lòng đến quầy số ${c}`,
    states: { issued: "Vui lòng chờ", called: "Đang gọi bạn", serving: "Đang xử lý", on_hold: "Tạm dừng", done: "Đã xong", no_show: "Vắng mặt (hãy báo quầy)", cancelled: "Đã hủy" },
  },
  pt: {
    title: "Movimento nos guichês", waiting: "Pessoas esperando", people: (n) => `${n}`, wait: "Espera estimada", minutes: (n) => `cerca de ${n} min`,
    calling: "Chamando agora", lampLow: "Tranquilo", lampMid: "Um pouco cheio", lampHigh: "Cheio", lampClosed: "Atendimento encerrado", openNow: "Aberto agora", closedNow: "Fechado agora",
    yourNumber: "Sua senha", ahead: "Pessoas na sua frente", aheadN: (n) => `${n}`, counterGo: (c) => `Dirija-se ao guichê ${c}`,
    states: { issued: "Aguarde", called: "Você está sendo chamado", serving: "Em atendimento", on_hold: "Em espera", done: "Concluído", no_show: "Ausente (avise o guichê)", cancelled: "Cancelado" },
  },
};

export function pickLanguage() {
  const saved = localStorage.getItem("madoguchi.lang");
  if (saved && T[saved]) return saved;
  const wanted = new URLSearchParams(location.search).get("lang");
  if (wanted && T[wanted]) return wanted;
  for (const l of navigator.languages || []) {
    if (l.startsWith("zh")) return "zh-Hans";
    const base = l.split("-")[0];
    if (T[base]) return base;
  }
  return "ja";
}

export function translator(lang) {
  return (key, ...args) => {
    for (const l of [lang, lang === "ja-easy" ? "ja" : "en", "ja"]) {
      const value = T[l] && T[l][key];
      if (value !== undefined) return typeof value === "function" ? value(...args) : value;
    }
    return key;
  };
}

/** A language picker wired to reload the page's texts. */
export function languagePicker(node, lang, onChange) {
  const select = document.createElement("select");
  select.id = "lang";
  for (const [code, label] of LANGUAGES) {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code === "ja-easy" ? "ja" : code;
    option.textContent = label;
    option.selected = code === lang;
    select.append(option);
  }
  const label = document.createElement("label");
  label.htmlFor = "lang";
  label.textContent = "言語 / Language";
  select.addEventListener("change", () => {
    localStorage.setItem("madoguchi.lang", select.value);
    onChange(select.value);
  });
  node.replaceChildren(label, " ", select);
}
