"""The composition root: the one place that builds the Application and registers handlers.

Handler order matters within a group: PTB runs the first handler whose filters match. Specific
commands and buttons come first; after them the catch-alls (typed answers, unknown commands,
stale buttons), so nothing reaches a person unanswered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import logs
from bot.config import Config
from bot.delivery import DeliveryEngine
from bot.lane import LaneRateLimiter, Pace, Pacer, SendingLane
from bot.shared_lane import SharedLane
from handlers import (
    act_for,
    act_for_buttons,
    act_for_move,
    broadcast,
    bulk_cancel,
    bulk_form,
    bulk_places,
    celebrate,
    choose,
    coordination,
    coverage,
    directory,
    errors,
    export_form,
    exports,
    exports_sheet,
    flows,
    homes,
    impact,
    menu,
    planning,
    planning_locations,
    profile,
    programme_day,
    referral_form,
    rota_upload,
    schools,
    session_jobs,
    siteday,
    start,
    triage,
    volunteer,
    week,
    wins,
)
from handlers.callbacks import matches
from handlers.common import Handler
from handlers.context import SERVICES_KEY, BotApplication, BotContext, Services, Settings, utc_now
from storage.crypto import Cipher
from storage.db import Database
from storage.lane import Ledger
from storage.models import Role
from storage.rota import JobSpec
from storage.schedule import Policy

DELIVERY_KEY = "delivery"
# Edited messages are not commands again: only new messages count.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


def build_application(config: Config, *, clock: Callable[[], datetime] = utc_now) -> BotApplication:
    """An Application wired to the config's Bot API server and database; nothing started."""
    logs.quiet_libraries()
    pace = Pace(
        overall_per_second=config.delivery.overall_per_second,
        per_chat_seconds=config.delivery.per_chat_seconds,
        per_group_per_minute=config.delivery.per_group_per_minute,
        max_attempts=config.delivery.max_attempts,
    )
    builder = (
        ApplicationBuilder()
        .token(config.telegram.require_token())
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.programme.tz))
        # Updates come through the inbox (bot/updates.py), never PTB's Updater: it confirms an
        # update to Telegram before it is handled, so a crash would lose it.
        .updater(None)
        # One sending lane: handlers' replies and the delivery engine's sends share one pacer.
        .rate_limiter(LaneRateLimiter(_lane(config.database.url, pace)))
    )
    if config.telegram.api_base_url:
        builder = builder.base_url(config.telegram.api_base_url).base_file_url(
            config.telegram.api_file_url or _file_url(config.telegram.api_base_url)
        )
    application: BotApplication = builder.build()
    services = Services(
        db=Database(config.database.url),
        settings=Settings(
            programme_name=config.programme.name,
            timezone=config.programme.tz,
            coordinator_ids=config.coordinators.telegram_ids,
            invite_valid_for=timedelta(hours=config.invites.expire_hours),
            offer_hold=timedelta(minutes=config.rota.offer_minutes),
            jobs=tuple(
                JobSpec(job=j.name, places=j.places, needs_check=j.needs_check)
                for j in config.rota.jobs
            ),
            schedule=Policy(
                tz=config.programme.tz,
                reminder_hours=config.reminders.offsets_hours,
                quiet_start=config.reminders.quiet_start,
                quiet_end=config.reminders.quiet_end,
                unfilled_horizon=timedelta(hours=config.alerts.unfilled_horizon_hours),
                late_window=timedelta(hours=config.alerts.late_dropout_hours),
                morning_at=config.alerts.morning_list_at,
            ),
            referral_retention=timedelta(days=config.referrals.retention_days),
            referral_daily_limit=config.referrals.daily_limit,
            celebrations=config.celebrations,
            broadcast_progress_every=timedelta(seconds=config.broadcasts.progress_seconds),
        ),
        clock=clock,
        cipher=Cipher(config.referrals.keys) if config.referrals.keys else None,
    )
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[DELIVERY_KEY] = DeliveryEngine(application, services, pace)
    _register_handlers(application)
    return application


def services_of(application: BotApplication) -> Services:
    services: Services = application.bot_data[SERVICES_KEY]
    return services


def delivery_of(application: BotApplication) -> DeliveryEngine:
    engine: DeliveryEngine = application.bot_data[DELIVERY_KEY]
    return engine


def _lane(database_url: str, pace: Pace) -> SendingLane:
    """On PostgreSQL, where several instances may run, the lane's budget is shared through the
    database; SQLite allows one instance, whose own pacer is the whole lane."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return SharedLane(pace, Ledger(database_url))
    return Pacer(pace)


def _file_url(base_url: str) -> str:
    # A Bot API server serves files beside its methods: .../bot<token> and .../file/bot<token>.
    head, sep, tail = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url


def _register_handlers(app: BotApplication) -> None:
    # Before everything (group -1): someone who had blocked the bot and writes again is back.
    app.add_handler(TypeHandler(Update, errors.welcome_back), group=-1)
    _everyone(app)
    _coordinators(app)
    _volunteers(app)
    _site_leads(app)
    _programme(app)
    _schools(app)
    _triage(app)
    _celebrations(app)
    _catch_alls(app)


def _command(app: BotApplication, name: str, callback: Handler) -> None:
    app.add_handler(CommandHandler(name, callback, filters=PRIVATE))


def _button(app: BotApplication, action: type[object], callback: Handler) -> None:
    app.add_handler(CallbackQueryHandler(callback, pattern=matches(action)))


def _everyone(app: BotApplication) -> None:
    """Registered or not."""
    _command(app, "start", start.start)
    _button(app, start.PrivacyAnswer, start.privacy_answer)
    _command(app, "help", profile.help_command)
    _command(app, "whoami", profile.whoami)
    _command(app, "name", profile.name)
    _command(app, "cancel", profile.cancel)
    _button(app, flows.CancelForm, flows.cancel_form)
    _button(app, choose.ClearSearch, choose.clear_search)
    _button(app, choose.Pick, choose.pick)


def _coordinators(app: BotApplication) -> None:
    """Each handler re-checks the role; so does storage."""
    _command(app, "invite", coordination.invite)
    _button(app, coordination.InviteRole, coordination.invite_role)
    _button(app, coordination.InviteSchool, coordination.invite_school)
    _button(app, coordination.InviteNewSchool, coordination.invite_new_school)
    _button(app, coordination.InviteSchoolsPage, coordination.invite_schools_page)
    _command(app, "people", directory.people_command)
    _button(app, directory.PeoplePage, directory.people_page)
    _button(app, directory.PeopleFilters, directory.people_filters)
    _button(app, directory.PeopleShow, directory.people_show)
    _button(app, directory.PeopleWhere, directory.people_where)
    _button(app, directory.PeopleAt, directory.people_at)
    _button(app, directory.MessagePeople, directory.message_people)
    _button(app, directory.PersonCard, coordination.person_card)
    _button(app, coordination.AskRemoveRole, coordination.ask_remove_role)
    _button(app, coordination.RemoveRole, coordination.remove_role)
    _button(app, coordination.CheckMenu, coordination.check_menu)
    _button(app, coordination.SetCheck, coordination.set_check)
    _button(app, coordination.ScopeMenu, coordination.scope_menu)
    _button(app, coordination.ToggleScope, coordination.toggle_scope)
    _button(app, coordination.AskErase, coordination.ask_erase)
    _button(app, coordination.Erase, coordination.erase)
    _command(app, "locations", planning_locations.locations_command)
    _button(app, planning_locations.LocationsList, planning_locations.locations_list)
    _button(app, planning_locations.LocationsPage, planning_locations.locations_page)
    _button(app, planning_locations.LocationCard, planning_locations.location_card)
    _button(app, planning_locations.NewLocation, planning_locations.new_location)
    _button(app, planning_locations.EditLocation, planning_locations.edit_location)
    _button(app, planning_locations.ArchiveLocation, planning_locations.archive_location)
    _button(app, planning_locations.ArchiveAndCancel, planning_locations.archive_and_cancel)
    _command(app, "newsessions", planning.new_sessions)
    _button(app, planning.PlanWherePage, planning.plan_where_page)
    _button(app, planning.PlanEverywhere, planning.plan_everywhere)
    _button(app, planning.PlanChosen, planning.plan_chosen)
    _button(app, planning.PlanWeekday, planning.plan_weekday)
    _button(app, planning.PlanWeekdaysDone, planning.plan_weekdays_done)
    _button(app, planning.PlanDefaultJobs, planning.plan_default_jobs)
    _button(app, planning.PlanCreate, planning.plan_create)
    _button(app, rota_upload.ImportFile, rota_upload.import_file)


def _volunteers(app: BotApplication) -> None:
    """Sessions, bookings, offers, calendar, profile."""
    _command(app, "sessions", volunteer.sessions_command)
    _button(app, volunteer.SessionsPage, volunteer.sessions_page)
    _button(app, volunteer.OpenSession, volunteer.open_session)
    _button(app, volunteer.BookJob, volunteer.book_job)
    _command(app, "mysessions", volunteer.my_sessions_command)
    _button(app, volunteer.MyBookings, volunteer.my_sessions)
    _button(app, volunteer.MyBookingsPage, volunteer.my_sessions_page)
    _button(app, volunteer.AskCancelBooking, volunteer.ask_cancel)
    _button(app, volunteer.CancelBooking, volunteer.cancel_booking)
    _button(app, volunteer.OfferAnswer, volunteer.offer_answer)
    _button(app, volunteer.ReminderAnswer, volunteer.reminder_answer)
    _button(app, volunteer.CalendarFile, volunteer.calendar_file)
    _command(app, "profile", volunteer.profile_command)
    _button(app, volunteer.ToggleHome, volunteer.toggle_home)
    _button(app, homes.HomesPage, homes.homes_page)
    _button(app, homes.PickHome, homes.pick_home)
    _button(app, homes.HomesDone, homes.homes_done)
    _button(app, volunteer.AskPhone, volunteer.ask_phone)
    _button(app, volunteer.RemovePhone, volunteer.remove_phone)


def _site_leads(app: BotApplication) -> None:
    """Site leads and coordinators: the day, coverage, changing or cancelling a session."""
    # (site day section: begin)
    _button(app, siteday.PickLocation, siteday.pick_location)
    _button(app, siteday.OpenDay, siteday.open_day)
    _button(app, siteday.OpenDayPage, siteday.open_day_page)
    _button(app, siteday.MarkAttendance, siteday.mark_attendance)
    _button(app, siteday.MarkAttendanceOnPage, siteday.mark_attendance_on_page)
    _button(app, siteday.AskCounts, siteday.ask_counts)
    _button(app, siteday.ClearMark, siteday.clear_mark)
    _button(app, siteday.SaveCountsAnyway, siteday.save_counts_anyway)
    _button(app, siteday.ChangeCounts, siteday.change_counts)
    _button(app, siteday.AskNotRun, siteday.ask_not_run)
    _button(app, siteday.NotRunChosen, siteday.not_run_chosen)
    _button(app, siteday.NotRunTyped, siteday.not_run_typed)
    _button(app, siteday.AskUnplanned, siteday.ask_unplanned)
    _button(app, siteday.RequestCover, siteday.request_cover)
    _button(app, siteday.RequestWiderCover, siteday.request_wider_cover)
    _button(app, siteday.OpenSessionAdmin, siteday.open_session_admin)
    _button(app, siteday.AskTimes, siteday.ask_times)
    _button(app, siteday.AskCancelSession, siteday.ask_cancel_session)
    _button(app, siteday.CancelSession, siteday.cancel_session)
    _button(app, siteday.EditJobs, session_jobs.edit_jobs)
    _button(app, session_jobs.AskPlaces, session_jobs.ask_places)
    _button(app, session_jobs.MoveToWaitlist, session_jobs.move_to_waitlist)
    _button(app, session_jobs.AskRemoveJob, session_jobs.ask_remove_job)
    _button(app, session_jobs.RemoveJob, session_jobs.remove_job)
    _button(app, session_jobs.AddJob, session_jobs.add_job)
    # (site day section: end)


def _programme(app: BotApplication) -> None:
    """Coordinators across the programme: the day and week at a glance, bulk cancels, and
    acting for people on a session's rota."""
    # (programme at a glance: begin)
    _command(app, "today", programme_day.today_command)
    _button(app, siteday.ProgrammeDayPage, programme_day.programme_day_page)
    _button(app, programme_day.DayFile, programme_day.day_file)
    _command(app, "week", week.week_command)
    _button(app, week.WeekView, week.week_view)
    _button(app, week.WeekFile, week.week_file)
    _command(app, "coverage", coverage.coverage_command)
    _button(app, coverage.CoverageHorizon, coverage.coverage_horizon)
    _button(app, siteday.CoveragePage, coverage.coverage_page)
    _button(app, coverage.CoverageAt, coverage.coverage_at)
    # (programme at a glance: end)
    # (bulk cancels: begin)
    _command(app, "cancelsessions", bulk_cancel.cancel_sessions_command)
    _button(app, bulk_form.BulkStart, bulk_cancel.bulk_start)
    _button(app, bulk_form.BulkDay, bulk_cancel.bulk_day)
    _button(app, bulk_form.BulkEverywhere, bulk_cancel.bulk_everywhere)
    _button(app, bulk_form.BulkChoosePlaces, bulk_places.bulk_choose_places)
    _button(app, bulk_form.BulkTogglePlace, bulk_places.bulk_toggle_place)
    _button(app, bulk_form.BulkPlacesDone, bulk_places.bulk_places_done)
    _button(app, bulk_form.BulkLocations, bulk_places.bulk_locations)
    _button(app, bulk_form.BulkAtLocation, bulk_places.bulk_at_location)
    _button(app, bulk_form.BulkSpan, bulk_places.bulk_span)
    _button(app, bulk_form.BulkConfirm, bulk_cancel.bulk_confirm)
    # (bulk cancels: end)
    # (acting for people: begin)
    _button(app, act_for_buttons.RotaTeam, act_for.rota_team)
    _button(app, act_for_buttons.RotaMember, act_for.rota_member)
    _button(app, act_for_buttons.AskTakeOff, act_for.ask_take_off)
    _button(app, act_for_buttons.TakeOff, act_for.take_off)
    _button(app, act_for_buttons.AskForget, act_for.ask_forget)
    _button(app, act_for_buttons.Forget, act_for.forget)
    _button(app, act_for_buttons.MoveJobs, act_for_move.move_jobs)
    _button(app, act_for_buttons.MoveSessions, act_for_move.move_sessions)
    _button(app, act_for_buttons.MoveLocations, act_for_move.move_locations)
    _button(app, act_for_buttons.MoveSessionJobs, act_for_move.move_session_jobs)
    _button(app, act_for_buttons.MoveTo, act_for_move.move_to)
    _button(app, act_for_buttons.PutOnJobs, act_for.put_on_jobs)
    _button(app, act_for_buttons.PutOnPeople, act_for.put_on_people)
    _button(app, act_for_buttons.PutOn, act_for.put_on)
    _button(app, act_for_buttons.PutOnByName, act_for.put_on_by_name)
    _button(app, act_for_buttons.WriteToTeam, act_for.write_to_team)
    # (acting for people: end)


def _schools(app: BotApplication) -> None:
    """School contacts: referring a family, following their referrals."""
    # (school referral form: begin)
    _command(app, "refer", referral_form.refer)
    _button(app, referral_form.ReferReferenceIsOurs, referral_form.refer_reference_is_ours)
    _button(app, referral_form.ReferReferenceAgain, referral_form.refer_reference_again)
    _button(app, referral_form.ReferChildren, referral_form.refer_children)
    _button(app, referral_form.ReferMoreChildren, referral_form.refer_more_children)
    _button(app, referral_form.ReferBand, referral_form.refer_band)
    _button(app, referral_form.ReferNoNeeds, referral_form.refer_no_needs)
    _button(app, referral_form.ReferPlace, referral_form.refer_place)
    _button(app, referral_form.ReferPlacesPage, referral_form.refer_places_page)
    _button(app, referral_form.ReferPlacesDone, referral_form.refer_places_done)
    _button(app, referral_form.ReferWeekday, referral_form.refer_weekday)
    _button(app, referral_form.ReferDaysDone, referral_form.refer_days_done)
    _button(app, referral_form.ReferConsent, referral_form.refer_consent)
    _button(app, referral_form.ReferNotYet, referral_form.refer_not_yet)
    _button(app, referral_form.ReferSkipNote, referral_form.refer_skip_note)
    _button(app, referral_form.ReferEdit, referral_form.refer_edit)
    _button(app, referral_form.ReferSend, referral_form.refer_send)
    _command(app, "myreferrals", referral_form.my_referrals_command)
    _button(app, referral_form.MyReferralsPage, referral_form.my_referrals_page)
    _button(app, referral_form.OpenReferral, referral_form.open_referral)
    # (school referral form: end)


def _triage(app: BotApplication) -> None:
    """Coordinators: partner schools, deciding referrals, exports; the register."""
    _command(app, "schools", schools.schools_command)
    _button(app, schools.SchoolsList, schools.schools_list)
    _button(app, schools.SchoolsPage, schools.schools_page)
    _button(app, schools.NewSchool, schools.new_school)
    _button(app, schools.SchoolCard, schools.school_card)
    _button(app, schools.EditArea, schools.edit_area)
    _button(app, schools.InviteContact, schools.invite_contact)
    _command(app, "referrals", triage.referrals_command)
    _button(app, triage.ReferralList, triage.referral_list)
    _button(app, triage.OpenReferral, triage.open_referral)
    _button(app, triage.ChoosePlace, triage.choose_place)
    _button(app, triage.PlacePage, triage.place_page)
    _button(app, triage.PlaceAt, triage.place_at)
    _button(app, triage.ConfirmPlace, triage.confirm_place)
    _button(app, triage.OtherDates, triage.other_dates)
    _button(app, triage.Waitlist, triage.waitlist)
    _button(app, triage.Decline, triage.decline)
    _button(app, triage.ExportSchool, triage.export_school)
    _button(app, triage.ExportLocation, triage.export_location)
    _command(app, "register", triage.register_command)
    _button(app, triage.RegisterPlaces, triage.register_places)
    _button(app, triage.MarkFamily, triage.mark_family)


def _celebrations(app: BotApplication) -> None:
    """Wins, broadcasts, the digest, impact reports and exports of the rota."""
    # (wins: begin)
    _command(app, "win", wins.win_command)
    _button(app, wins.ShareWin, wins.share_win)
    _button(app, wins.CancelWin, wins.cancel_win)
    _command(app, "wins", wins.wins_command)
    _button(app, wins.WinsPage, wins.wins_page)
    _button(app, wins.OpenWin, wins.open_win)
    _button(app, wins.ApproveWin, wins.approve_win)
    _button(app, wins.EditWin, wins.edit_win)
    _button(app, wins.RejectWin, wins.reject_win)
    _button(app, wins.RejectWithoutNote, wins.reject_without_note)
    _button(app, wins.ApproveWithoutPhoto, wins.approve_without_photo)
    _button(app, wins.ConfirmReject, wins.confirm_reject)
    _button(app, wins.ChangeNote, wins.change_note)
    _button(app, wins.KeepWin, wins.keep_win)
    # (wins: end)
    # (broadcasts: begin)
    _command(app, "broadcast", broadcast.broadcast_command)
    _button(app, broadcast.ChangeAudience, broadcast.change_audience)
    _button(app, broadcast.AudienceLocations, broadcast.audience_locations)
    _button(app, broadcast.PickAudience, broadcast.pick_audience)
    _button(app, broadcast.SendBroadcast, broadcast.send_broadcast)
    _button(app, broadcast.ChangeMessage, broadcast.change_message)
    _button(app, broadcast.StopBroadcast, broadcast.stop_broadcast)
    # (broadcasts: end)
    # (impact: begin)
    _command(app, "impact", impact.impact_command)
    _button(app, impact.ImpactPeriod, impact.impact_period)
    _button(app, impact.ImpactDates, impact.impact_dates)
    _button(app, impact.ImpactPlaces, impact.impact_places)
    _button(app, impact.ImpactRun, impact.impact_run)
    _button(app, impact.ImpactMeanings, impact.impact_meanings)
    # (impact: end)
    # (exports: begin)
    _command(app, "export", exports.export_command)
    _button(app, exports.ExportPeriod, exports.export_period)
    _button(app, exports.ExportDates, exports.export_dates)
    _button(app, export_form.ExportPlaces, exports.export_places)
    _button(app, exports.ExportAll, exports.export_all)
    _button(app, exports.ExportChosen, exports.export_chosen)
    _button(app, exports.ExportSheets, exports.export_sheets)
    _button(app, exports_sheet.SheetSessions, exports_sheet.sheet_sessions)
    _button(app, exports_sheet.SheetChosen, exports_sheet.sheet_chosen)
    _button(app, exports_sheet.SignInSheet, exports_sheet.sign_in_sheet)
    # (exports: end)
    # (digest: begin)
    _command(app, "digest", celebrate.digest_command)
    app.add_handler(
        CommandHandler(
            "chatid",
            celebrate.chat_id,
            filters=GROUPS | (filters.ChatType.CHANNEL & filters.UpdateType.CHANNEL_POST),
        )
    )
    # (digest: end)


def _catch_alls(app: BotApplication) -> None:
    """Last: typed answers to forms, unknown commands, commands in groups, stale buttons."""
    app.add_handler(
        MessageHandler(
            PRIVATE & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO),
            flows.text_router(
                {
                    profile.RENAME_FLOW: flows.TextRoute(profile.on_name_text),
                    coordination.INVITE_SCHOOL_FLOW: flows.TextRoute(
                        coordination.on_school_name_text, Role.COORDINATOR
                    ),
                    volunteer.PHONE_FLOW: flows.TextRoute(volunteer.on_phone_text),
                    # A list on screen: what is typed searches it (handlers/choose.py).
                    choose.LIST_FLOW: flows.TextRoute(choose.on_search_text),
                    coordination.CHECK_FLOW: flows.TextRoute(
                        coordination.on_check_expiry_text, Role.COORDINATOR
                    ),
                    planning_locations.LOCATION_NAME_FLOW: flows.TextRoute(
                        planning_locations.on_location_name_text, Role.COORDINATOR
                    ),
                    planning_locations.LOCATION_EDIT_FLOW: flows.TextRoute(
                        planning_locations.on_location_edit_text, Role.COORDINATOR
                    ),
                    planning.PLAN_FLOW: flows.TextRoute(planning.on_plan_text, Role.COORDINATOR),
                    triage.DECLINE_FLOW: flows.TextRoute(triage.on_reason_text, Role.COORDINATOR),
                    schools.SCHOOL_FLOW: flows.TextRoute(schools.on_school_text, Role.COORDINATOR),
                    triage.DATES_FLOW: flows.TextRoute(triage.on_dates_text, Role.COORDINATOR),
                    # (school referral form flows: begin)
                    referral_form.REFERRAL_FLOW: flows.TextRoute(
                        referral_form.on_referral_text, Role.SCHOOL_CONTACT
                    ),
                    # (school referral form flows: end)
                    # (site day text flows: begin)
                    siteday.COUNTS_FLOW: flows.TextRoute(siteday.on_counts_text, Role.COORDINATOR),
                    siteday.TIMES_FLOW: flows.TextRoute(siteday.on_times_text, Role.COORDINATOR),
                    siteday.NOT_RUN_FLOW: flows.TextRoute(
                        siteday.on_not_run_text, Role.COORDINATOR
                    ),
                    session_jobs.JOBS_FLOW: flows.TextRoute(
                        session_jobs.on_jobs_text, Role.COORDINATOR
                    ),
                    # (site day text flows: end)
                    # (bulk cancels and acting for people flows: begin)
                    bulk_form.BULK_FLOW: flows.TextRoute(
                        bulk_cancel.on_bulk_text, Role.COORDINATOR
                    ),
                    act_for.NAME_FLOW: flows.TextRoute(act_for.on_name_text, Role.COORDINATOR),
                    # (bulk cancels and acting for people flows: end)
                    # (wins flows: begin)
                    wins.WIN_FLOW: flows.TextRoute(wins.on_win_text, photos=True),
                    wins.EDIT_FLOW: flows.TextRoute(wins.on_edit_text, Role.COORDINATOR),
                    wins.REJECT_FLOW: flows.TextRoute(wins.on_reject_note, Role.COORDINATOR),
                    # (wins flows: end)
                    # (broadcasts flows: begin)
                    broadcast.BROADCAST_FLOW: flows.TextRoute(
                        broadcast.on_broadcast_text, Role.COORDINATOR, photos=True
                    ),
                    # (broadcasts flows: end)
                    # (impact flows: begin)
                    impact.IMPACT_FLOW: flows.TextRoute(impact.on_dates_text, Role.COORDINATOR),
                    # (impact flows: end)
                    # (exports flows: begin)
                    export_form.EXPORT_FLOW: flows.TextRoute(
                        exports.on_export_text, Role.COORDINATOR
                    ),
                    # (exports flows: end)
                }
            ),
        )
    )
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, errors.unknown_command))
    # A file: a coordinator's rota as CSV is reviewed; any other file is unreadable, below.
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, rota_upload.on_document))
    app.add_handler(
        MessageHandler(
            PRIVATE & ~filters.TEXT & ~filters.PHOTO & ~filters.StatusUpdate.ALL, errors.unreadable
        )
    )
    app.add_handler(
        CommandHandler([c for c, _, _ in menu.COMMANDS], errors.group_command, filters=GROUPS)
    )
    app.add_handler(CallbackQueryHandler(errors.stale_button))
    app.add_error_handler(errors.on_error)
