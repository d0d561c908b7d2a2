"""The judged pieces: short writing of the kind shared in peer circles, in Hindi, Marathi
and English (and Hindi and Marathi typed in Latin letters), about sleep, school, tea,
phones, sadness, hope and family. Each is (key, language, title, body)."""

from __future__ import annotations

PIECES: list[tuple[str, str, str, str]] = [
    # --- Hindi ------------------------------------------------------------------------------
    (
        "h_udasi",
        "hi",
        "शाम की उदासी",
        "आज शाम फिर वही उदासी लौट आई। खिड़की के पास बैठकर चाय पी, पर मन हल्का नहीं हुआ।",
    ),
    (
        "h_udas",
        "hi",
        "बेवजह",
        "कभी-कभी बिना वजह उदास हो जाती हूँ। तब मैं अपनी डायरी में दो लाइनें लिख लेती हूँ।",
    ),
    (
        "h_udar",
        "hi",
        "दादी का मन",
        "मेरी दादी बहुत उदार थीं। घर आए हर मेहमान को कुछ न कुछ खिलाए बिना नहीं जाने देती थीं।",
    ),
    (
        "h_ummeed",
        "hi",
        "हर सुबह",
        "हर सुबह एक नई उम्मीद लेकर आती है। मैं खुद से कहती हूँ कि आज थोड़ा बेहतर होगा।",
    ),
    ("h_ummeeden", "hi", "टूटी हुई बातें", "इस साल मेरी कई उम्मीदें टूटीं, फिर भी मैंने लिखना नहीं छोड़ा।"),
    (
        "h_bachchon",
        "hi",
        "बच्चों की नींद",
        "रात को बच्चों को सुलाने के बाद ही मुझे अपने लिए कुछ समय मिलता है। उनकी नींद पूरी "
        "हो तो मेरा दिन अच्छा जाता है।",
    ),
    (
        "h_bachche",
        "hi",
        "सुबह सात बजे",
        "सुबह सात बजे बच्चे स्कूल जाते हैं। उनका टिफ़िन बनाते-बनाते मेरी अपनी चाय ठंडी हो जाती है।",
    ),
    ("h_neend", "hi", "रातें", "कई रातों से नींद नहीं आती। फ़ोन बंद करके भी आँखें खुली रहती हैं।"),
    (
        "h_phone",
        "hi",
        "रात दस बजे के बाद",
        "मैंने तय किया है कि रात दस बजे के बाद फोन नहीं देखूँगी। पहले हफ़्ते बहुत मुश्किल हुआ।",
    ),
    (
        "h_mobile",
        "hi",
        "बेटे की आदत",
        "मेरे बेटे को मोबाइल की ऐसी आदत लगी है कि खाना खाते समय भी स्क्रीन देखता है।",
    ),
    (
        "h_doctor",
        "hi",
        "आख़िरकार बात की",
        "आख़िरकार मैंने डॉक्टर से अपनी घबराहट के बारे में बात की। उन्होंने कहा कि यह कमज़ोरी नहीं है।",
    ),
    (
        "h_teacher",
        "hi",
        "याद रह गई बात",
        "हमारी टीचर ने कहा था कि गलतियाँ सीखने का हिस्सा हैं। वह बात आज भी याद है।",
    ),
    ("h_maa", "hi", "अदरक वाली", "माँ के हाथ की अदरक वाली चाय से ज़्यादा सुकून किसी चीज़ में नहीं।"),
    ("h_zindagi", "hi", "रफ़्तार", "ज़िंदगी कभी तेज़ भागती है, कभी ठहर जाती है। मैं बस साँस लेना याद रखती हूँ।"),
    ("h_dost", "hi", "सबसे अच्छी दवा", "दोस्तों के साथ बैठकर हँसना सबसे अच्छी दवा है।"),
    (
        "h_pariksha",
        "hi",
        "डर की रात",
        "परीक्षा से पहले की रात मेरा दिल ज़ोर से धड़कता था। अब मैं गहरी साँसें लेकर पढ़ती हूँ।",
    ),
    (
        "h_akelapan",
        "hi",
        "भीड़ में",
        "भीड़ में भी अकेलापन महसूस होता है। इस सर्कल में आकर लगा कि मैं अकेली नहीं हूँ।",
    ),
    ("h_sapne", "hi", "छोटे ख़्वाब", "मेरे सपने बड़े नहीं हैं: एक छोटा कमरा, किताबें और शांत सुबह।"),
    (
        "h_roman",
        "hi",
        "aaj ka din",
        "aaj bahut udaas hoon, neend bhi nahi aayi. chai pee ke thoda theek laga.",
    ),
    (
        "h_roman2",
        "hi",
        "bachpan ki yaadein",
        "bachpan mein school jaana accha lagta tha, khidki ke paas wali seat meri thi.",
    ),
    # --- Marathi ----------------------------------------------------------------------------
    (
        "m_shala",
        "mr",
        "घरी आल्यावर",
        "शाळेतून घरी आल्यावर मुलगी खूप शांत असते. मी तिला विचारते, आज काय झालं?",
    ),
    (
        "m_shala2",
        "mr",
        "गावाच्या टोकाला",
        "माझी शाळा गावाच्या टोकाला होती. पावसात तिथे जाताना पाय चिखलाने भरायचे.",
    ),
    ("m_dupatta", "mr", "तिचा वास", "आईच्या जुन्या दुपट्ट्याशी खेळताना मला तिचा वास आठवतो."),
    ("m_dupatta2", "mr", "लग्नाचा दिवस", "लाल दुपट्टा घेऊन ती लग्नाला गेली आणि खूप हसली."),
    ("m_zop", "mr", "रात्रीचं पुस्तक", "रात्री झोप येत नाही म्हणून मी पुस्तक वाचते. फोन बाजूला ठेवते."),
    ("m_zopet", "mr", "भावाची बडबड", "माझा भाऊ झोपेत बडबडतो, आणि सकाळी त्याला काहीच आठवत नाही."),
    ("m_chaha", "mr", "आवडती वेळ", "सकाळचा चहा बाबांसोबत घेणे हा माझा आवडता वेळ आहे."),
    ("m_aai", "mr", "न लिहिलेलं पत्र", "आईला सांगायचं होतं की मला भीती वाटते, पण शब्द सापडले नाहीत."),
    ("m_udas", "mr", "पावसाळी संध्याकाळ", "आज संध्याकाळ उदास वाटली. खिडकीतून पाऊस बघत बसले."),
    ("m_asha", "mr", "उद्याचा दिवस", "पुढचा दिवस चांगला असेल अशी आशा मनात ठेवते."),
    ("m_mobile", "mr", "तास कसे जातात", "मोबाईलवर रील्स बघण्यात तास कसे जातात कळत नाही."),
    ("m_doctor", "mr", "एक सल्ला", "डॉक्टरांनी सांगितलं की झोपेची वेळ ठरवा आणि ती पाळा."),
    ("m_mitra", "mr", "खूप दिवसांनी", "खूप दिवसांनी मित्रांना भेटले आणि मन हलकं झालं."),
    ("m_baba", "mr", "धीर", "बाबांचा आवाज फोनवर ऐकला की धीर येतो."),
    (
        "m_roman",
        "mr",
        "kantala",
        "aaj shalet jaaycha kantala aala, pan aai mhanali thoda vel tari ja.",
    ),
    # --- English ----------------------------------------------------------------------------
    (
        "e_sleep",
        "en",
        "Awake",
        "Some nights I cannot sleep at all. I lie awake counting the hours until the alarm.",
    ),
    (
        "e_sleeping",
        "en",
        "What helped",
        "What helped me with sleeping: no screens after ten and a cup of warm milk.",
    ),
    (
        "e_school",
        "en",
        "The gate",
        "Every morning at the school gate my daughter squeezes my hand twice.",
    ),
    (
        "e_schools",
        "en",
        "A year of changes",
        "We changed schools twice in one year; my son still misses his first teacher.",
    ),
    (
        "e_tea",
        "en",
        "The slow way",
        "My father makes tea the slow way, with ginger, and we talk while it boils.",
    ),
    (
        "e_phone",
        "en",
        "In a drawer",
        "I put my phone in a drawer after dinner. The first week was hard.",
    ),
    (
        "e_phones",
        "en",
        "A rule at home",
        "Our family made a rule: no phones at the table, not even for grown-ups.",
    ),
    ("e_sad", "en", "Waves", "The sadness comes in waves. On good days I can watch it pass."),
    (
        "e_hope",
        "en",
        "Small things",
        "My hopes are small now: a walk, a kind message, a full night's rest.",
    ),
    (
        "e_rotis",
        "en",
        "Never round",
        "My grandmother taught me to make rotis; the first ones were never round.",
    ),
    ("e_family", "en", "Sundays", "Sunday dinner is the one time the whole family sits together."),
    ("e_anxiety", "en", "Five things", "When anxiety visits I name five things I can see."),
    ("e_doctor", "en", "A year late", "It took me a year to see a doctor about my low mood."),
    ("e_mobile", "en", "Data off", "I switch my mobile data off on Sundays."),
]

#: a piece the person searching may not see (private to someone else), holding words that
#: are nowhere else: it must never be found, counted or suggested
HIDDEN = (
    "hidden",
    "hi",
    "मेरी गुप्तकथा",
    "यह गुप्तकथा सिर्फ़ मेरे लिए है: उदासी, नींद, स्कूल और चाय, सब यहाँ है। zzsecretword",
)
