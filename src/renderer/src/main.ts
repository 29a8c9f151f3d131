import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { getBridge } from './bridge'
import './styles/main.css'

// Pick the transport before anything else, so the serve-mode token leaves the URL at once.
getBridge()

createApp(App).use(createPinia()).mount('#app')
