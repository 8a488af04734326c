"""Conversations handed from the bot to staff (GẶP CÁN BỘ): member side, platform windows, staff actions, notices."""
